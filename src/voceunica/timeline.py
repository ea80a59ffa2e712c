"""The procedure timeline: each EU file a dossier addresses on one time axis, its date marked.

One row per file; a filled dot per stage reached by the dossier's date, a hollow one for
the next expected step, a dashed line at the dossier's date (the "today" of the paper,
so a rebuild draws the same picture).  matplotlib at print quality, as charts.py; the
alt text is resolve's (every stage and date in words).
"""

from __future__ import annotations

import datetime as dt
import io

from voceunica import fmt
from voceunica.charts import PALETTE
from voceunica.resolve import RTimeline


def render_png(tl: RTimeline) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(reversed(tl.rows))  # the first file on top
    days = [d for _, points in rows for d, _, _ in points] + [tl.today]
    start, end = min(days) - dt.timedelta(days=45), max(days) + dt.timedelta(days=75)
    x = dt.date.toordinal
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "voceunica"}):
        fig, ax = plt.subplots(figsize=(6.3, 1.0 + 0.95 * len(rows)))
        for y, (_name, points) in enumerate(rows):
            done = [x(d) for d, _, expected in points if not expected]
            todo = [x(d) for d, _, expected in points if expected]
            if done:
                ax.plot(done, [y] * len(done), "-", color="#999999", linewidth=1, zorder=1)
                ax.scatter(done, [y] * len(done), s=28, color=PALETTE[0], zorder=2)
            if todo:
                ax.scatter(todo, [y] * len(todo), s=28, facecolors="white", edgecolors=PALETTE[1],
                           linewidths=1.4, zorder=2)
                if done:
                    ax.plot([done[-1], todo[0]], [y, y], ":", color=PALETTE[1], linewidth=1, zorder=1)
            for i, (d, label, _) in enumerate(points):
                # four levels, above and below by turns, so labels of close dates do not overlap
                ax.annotate(label, (x(d), y), xytext=(0, _LEVELS[i % len(_LEVELS)]), textcoords="offset points",
                            ha="center", fontsize=6)
        ax.axvline(x(tl.today), color=PALETTE[3], linestyle="--", linewidth=1)
        ax.annotate(f"{tl.today_label}\n{fmt.date(tl.today, tl.lang)}", (x(tl.today), len(rows) - 0.4),
                    xytext=(3, 0), textcoords="offset points", fontsize=6, color=PALETTE[3], va="top")
        ax.set_yticks(range(len(rows)), [_short(name) for name, _ in rows])
        ax.set_ylim(-0.8, len(rows) - 0.2)
        ax.set_xlim(x(start), x(end))
        ticks = _half_years(start, end)
        ax.set_xticks([x(t) for t in ticks], [_month(t, tl.lang) for t in ticks])
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


_LEVELS = (7, -13, 17, -23)


def _month(day: dt.date, lang: str) -> str:
    """'Jan 2026' / 'gen 2026'."""
    from babel.dates import format_date

    from voceunica.locales import babel_locale

    return format_date(day, "MMM y", locale=babel_locale(lang))


def _half_years(start: dt.date, end: dt.date) -> list[dt.date]:
    """1 January and 1 July between `start` and `end`: the axis' ticks."""
    out = []
    for year in range(start.year, end.year + 1):
        out += [d for d in (dt.date(year, 1, 1), dt.date(year, 7, 1)) if start <= d <= end]
    return out


def _short(name: str, width: int = 28) -> str:
    """A file's name on the axis: wrapped at `width` characters, at most two lines."""
    words, lines, line = name.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")
