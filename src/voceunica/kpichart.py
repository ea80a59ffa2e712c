"""A KPI's trend chart: one line per region and the target as a dashed line, labels in the document's language.

The same look and guarantees as the annexes' charts (`charts`: palette,
number format, matplotlib Agg at 200 dpi, no timestamp in the PNG); the
alternative text, which names the target, is made by `scoreboard`.
"""

from __future__ import annotations

import io

from voceunica.charts import PALETTE, _num
from voceunica.resolve import RChart

TARGET_COLOUR = "#D55E00"  # Okabe–Ito vermilion: apart from the regions' colours


def render_png(chart: RChart, lang: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "voceunica"}):
        fig, ax = plt.subplots(figsize=(6.3, 3.2))
        x = list(range(len(chart.categories)))
        markers = ["o", "s", "^", "D"]
        for i, (label, values) in enumerate(chart.series):
            pts = [(p, v) for p, v in zip(x, values, strict=True) if v is not None]
            ax.plot([p for p, _ in pts], [v for _, v in pts], marker=markers[i % len(markers)], label=label,
                    color=PALETTE[i % len(PALETTE)])
        if chart.target is not None:
            value, label = chart.target
            ax.axhline(value, color=TARGET_COLOUR, linestyle="--", linewidth=1.2, label=label)
            ax.annotate(_num(value, lang, chart.decimals), xy=(1, value), xycoords=("axes fraction", "data"),
                        xytext=(-2, 3), textcoords="offset points", ha="right", fontsize=7, color=TARGET_COLOUR)
        ax.set_xticks(x, chart.categories)
        ax.set_xlabel(chart.x_label)
        if chart.unit:
            ax.set_ylabel(chart.unit)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _num(v, lang, chart.decimals if v % 1 else 0)))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        n = len(chart.series) + (chart.target is not None)
        ax.legend(frameon=False, ncols=min(n, 4), loc="upper center", bbox_to_anchor=(0.5, 1.14), fontsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()
