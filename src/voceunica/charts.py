"""Charts for annexes: a resolved chart → PNG bytes, labels in the document's language.

matplotlib (Agg, no display) at print quality (200 dpi).  Output is
deterministic: no timestamp or software name in the PNG metadata.
"""

from __future__ import annotations

import io
from decimal import Decimal

from voceunica import fmt
from voceunica.resolve import RChart

# Colour-blind-safe pair (Okabe–Ito), then greys.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999"]


def render_png(chart: RChart, lang: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "voceunica"}):
        fig, ax = plt.subplots(figsize=(6.3, 3.2))
        n = len(chart.series)
        x = list(range(len(chart.categories)))
        if chart.kind == "bar":
            width = 0.8 / n
            for i, (label, values) in enumerate(chart.series):
                xs = [p + (i - (n - 1) / 2) * width for p in x]
                ys = [v if v is not None else 0.0 for v in values]
                bars = ax.bar(xs, ys, width * 0.95, label=label, color=PALETTE[i % len(PALETTE)])
                ax.bar_label(bars, labels=[_num(v, lang, chart.decimals) for v in values], fontsize=7, padding=2)
        else:
            for i, (label, values) in enumerate(chart.series):
                pts = [(p, v) for p, v in zip(x, values, strict=True) if v is not None]
                ax.plot([p for p, _ in pts], [v for _, v in pts], marker="o", label=label,
                        color=PALETTE[i % len(PALETTE)])
        ax.set_xticks(x, chart.categories)
        ax.set_xlabel(chart.x_label)
        if chart.unit:
            ax.set_ylabel(chart.unit)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _num(v, lang, 0)))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(frameon=False, ncols=min(n, 4), loc="upper center", bbox_to_anchor=(0.5, 1.12))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def _num(v: float | None, lang: str, decimals: int) -> str:
    if v is None:
        return ""
    return fmt.number(Decimal(str(round(v, decimals))), lang, decimals)
