"""The semantic diff of two loaded projects, for reviewers of a pull request and for release notes.

Beside the pipeline stages.  `compare` computes the diff (pure data, see its
docstring for what is compared); `present` shows it to reviewers (terminal
text, a Markdown pull-request comment, JSON); `changelog` writes it as release
notes in the project's own words.
"""

from voceunica.diff.changelog import changelog, release_notes
from voceunica.diff.compare import (
    CellChange, Change, FieldChange, ItemDiff, Kind, Op, ProjectDiff, compare_models, compare_rows, diff_projects,
    show_value, word_diff,
)
from voceunica.diff.present import to_json, to_markdown, to_terminal

__all__ = [
    "CellChange", "Change", "FieldChange", "ItemDiff", "Kind", "Op", "ProjectDiff", "changelog", "compare_models",
    "compare_rows", "diff_projects", "release_notes", "show_value", "to_json", "to_markdown", "to_terminal",
    "word_diff",
]
