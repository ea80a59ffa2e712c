"""The CI kit's steps, run by the workflow `voceunica init` writes (python -m voceunica.cikit ...).

The workflow calls these instead of inline shell, so the logic is tested with the package and
every content repository runs the same code as the voceunica it installs:

- `review --base REV --build DIR --out DIR`: the semantic diff (diff.md, diff.json) and, per
  dossier the pull request changes (its own file, or a position or annex it holds), its built
  Markdown and DOCX and a redline in each language, in OUT/<dossier>/;
- `comment FILE`: posts FILE as the pull request's one voceunica comment, found again by a hidden
  marker and edited in place, cut to GitHub's limit with a link to the full diff; a fork's pull
  request (whose token cannot comment), or any refusal, gets the job summary instead of a failure;
- `pages RELEASE DIR`: a release folder as a GitHub Pages site, its preview site at site/.

It reads the GitHub Actions environment (GITHUB_REPOSITORY, GITHUB_STEP_SUMMARY, ...) and runs
`gh` and voceunica itself as commands; git is read only through voceunica's commands.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MARKER = "<!-- voceunica-diff -->"  # first line of the comment: how the next run finds it
LIMIT = 65_536  # GitHub's limit on a comment's body, in characters
SUMMARY_LIMIT = 1_000_000  # a step summary holds 1 MiB
LANGS = ("it", "en")


def _voceunica(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voceunica", *args], capture_output=True, text=True,
                          check=False)


def _say(text: str) -> None:
    print(text, file=sys.stderr)  # noqa: T201 - this is a command


# --- review ----------------------------------------------------------------------------------

def changed_dossiers(diff: dict[str, list[dict[str, object]]], holds: dict[str, tuple[set[str], set[str]]],
                     ) -> dict[str, bool]:
    """The dossiers a diff touches, each with whether it existed at the base: its own file
    changed or added, or one of the positions or annexes it holds (`holds`: dossier id ->
    (position ids, annex ids), as at the head) changed."""
    own = {str(e["id"]): e["change"] != "added" for e in diff.get("dossiers", []) if e["change"] != "removed"}
    positions = {str(e["id"]) for e in diff.get("positions", [])}
    annexes = {str(e["id"]) for e in diff.get("annexes", [])}
    out = dict(own)
    for dossier, (pos, ann) in holds.items():
        if dossier not in out and (pos & positions or ann & annexes):
            out[dossier] = True
    return dict(sorted(out.items()))


def review(base: str, build: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for fmt, name in (("md", "diff.md"), ("json", "diff.json")):
        done = _voceunica("diff", base, "HEAD", "--format", fmt)
        if done.returncode != 0:
            _say(done.stderr.rstrip())
            (out / "diff.md").write_text(f"{MARKER}\nvoceunica could not compare with {base}:\n\n```\n"
                                         f"{done.stderr.strip()}\n```\n", encoding="utf-8")
            return done.returncode
        (out / name).write_text(done.stdout, encoding="utf-8")
    diff = json.loads((out / "diff.json").read_text(encoding="utf-8"))

    from voceunica.project import find_root
    from voceunica.validate import load_project

    project = load_project(find_root(Path.cwd()) or Path.cwd())
    holds = {d.id: (set(d.positions), set(d.annexes)) for d in project.dossiers.values()}
    for dossier, existed in changed_dossiers(diff, holds).items():
        folder = out / dossier
        folder.mkdir(exist_ok=True)
        built = sorted(p for p in build.glob(f"{dossier}.*") if p.suffix in (".md", ".docx", ".pdf", ".png"))
        for path in built:
            shutil.copy2(path, folder / path.name)
        if not built:
            _say(f"{dossier}: nothing built in {build}/ (see the build step)")
        if not existed:
            continue  # new in this pull request: nothing to redline against
        for lang in LANGS:
            target = folder / f"{dossier}.redline.{lang}.docx"
            done = _voceunica("redline", dossier, base, "HEAD", "--lang", lang, "--out", str(target))
            _say((done.stderr or done.stdout).rstrip())
    _say(f"review: {out}/ ({sum(1 for p in out.rglob('*') if p.is_file())} files)")
    return 0


# --- comment ---------------------------------------------------------------------------------

def _units(text: str) -> int:
    """A length as GitHub may count it: UTF-16 code units (a character beyond U+FFFF counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def fit(body: str, url: str, limit: int = LIMIT) -> str:
    """`body` as it fits a comment: cut at a line end when too long, an open code block closed,
    and a line saying where the full diff is."""
    if _units(body) <= limit:
        return body
    tail = (f"\n\n---\n**Cut here: the diff has {len(body):,} characters, more than a comment holds. "
            f"The full diff is `diff.md` in [the review artifact]({url}).**\n")
    budget, end = limit - _units(tail) - len("```\n"), len(body)
    for i, char in enumerate(body):  # where the budget runs out
        budget -= 2 if ord(char) > 0xFFFF else 1
        if budget < 0:
            end = i
            break
    kept = body[:end]
    kept = kept[: kept.rfind("\n") + 1] if "\n" in kept else kept
    if kept.count("```") % 2:
        kept += "```\n"
    return kept + tail


def _summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text[:SUMMARY_LIMIT] + "\n")


def _gh(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    except OSError as exc:  # no gh on this runner
        return subprocess.CompletedProcess(["gh", *args], 127, "", f"gh: {exc.strerror}")


def comment(diff_file: Path) -> int:
    try:
        text = diff_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        text = f"voceunica made no diff ({exc.strerror}): see the job's log."
    text = text.removeprefix(MARKER).strip() or "No change to positions, dossiers or annexes."
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    run = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}/actions/runs/" \
          f"{os.environ.get('GITHUB_RUN_ID', '')}"
    url = os.environ.get("REVIEW_URL") or run
    files = f"\n\n---\nThe Markdown, Word files and redlines of each changed dossier: [review]({url})" \
        if os.environ.get("REVIEW_URL") else ""
    body = fit(f"{MARKER}\n{text}{files}\n", url)
    number = os.environ.get("PR_NUMBER", "")
    head = os.environ.get("PR_HEAD_REPO", "")
    if head and head != repo:
        _summary(f"{text}\n\n_A pull request from a fork ({head}): its token cannot comment, so the diff is "
                 "here._")
        _say(f"comment: pull request from the fork {head}: the diff is in the job summary")
        return 0
    if not (repo and number.isdigit()):
        _summary(text)
        _say("comment: not a pull request (GITHUB_REPOSITORY, PR_NUMBER unset): the diff is in the job summary")
        return 0
    found = _gh("api", "--paginate", f"repos/{repo}/issues/{number}/comments", "--jq",
                f'.[] | select(.user.type == "Bot" and (.body | startswith("{MARKER}"))) | .id')
    ids = found.stdout.split() if found.returncode == 0 else []
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".md", delete=False) as f:
        f.write(body)
    try:
        if found.returncode != 0:
            posted = found
        elif ids and ids[0].isdigit():
            posted = _gh("api", "--method", "PATCH", f"repos/{repo}/issues/comments/{ids[0]}", "-F",
                         f"body=@{f.name}", "--jq", ".html_url")
        else:
            posted = _gh("api", "--method", "POST", f"repos/{repo}/issues/{number}/comments", "-F",
                         f"body=@{f.name}", "--jq", ".html_url")
    finally:
        os.unlink(f.name)
    if posted.returncode != 0:
        reason = (posted.stderr.strip().splitlines() or ["gh failed"])[-1]
        _summary(f"{text}\n\n_The comment could not be posted ({reason}), so the diff is here._")
        print(f"::warning::voceunica: the diff comment could not be posted ({reason}); "  # noqa: T201
              "it is in the job summary")
        return 0
    _summary(f"The semantic diff is in {posted.stdout.strip() or 'the pull request'}.")
    _say(f"comment: {'updated' if ids else 'posted'} {posted.stdout.strip()}")
    return 0


# --- pages -----------------------------------------------------------------------------------

REDIRECT = ('<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=site/index.html">'
            '<a href="site/index.html">site</a>\n')


def pages(release: Path, target: Path) -> int:
    if not (release / "site" / "index.html").is_file():
        _say(f"pages: {release}/site/index.html: no site in the release (voceunica release --site)")
        return 1
    shutil.copytree(release, target)
    (target / "index.html").write_text(REDIRECT, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voceunica.cikit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("review", help="the diff and each changed dossier's files and redlines")
    p.add_argument("--base", required=True, metavar="REV")
    p.add_argument("--build", type=Path, default=Path("build"), metavar="DIR")
    p.add_argument("--out", type=Path, default=Path("review"), metavar="DIR")
    p = sub.add_parser("comment", help="post the diff as the pull request's one voceunica comment")
    p.add_argument("file", type=Path)
    p = sub.add_parser("pages", help="a release folder as the GitHub Pages site")
    p.add_argument("release", type=Path)
    p.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if args.step == "review":
        return review(args.base, args.build, args.out)
    if args.step == "comment":
        return comment(args.file)
    return pages(args.release, args.target)


if __name__ == "__main__":
    sys.exit(main())
