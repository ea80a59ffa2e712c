"""Charts for annexes: a resolved chart → PNG bytes, labels in the document's language.

matplotlib (Agg, no display) at print quality (200 dpi).  Output is
deterministic: no timestamp or software name in the PNG metadata.

A chart is drawn once per content (`png`): the same annex in three dossiers
is one picture per language, kept in this process and, given a `ChartStore`,
across runs (the build keeps them in the user's cache folder: see
`pipeline`), named by the hash of everything the picture depends on — its
data and labels, the language, this module's and fmt.py's code, the
voceunica and matplotlib versions.  When every chart is stored, matplotlib
is not even imported.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path
from collections.abc import Callable
from typing import Protocol

from voceunica import fmt
from voceunica.resolve import RChart

# Colour-blind-safe pair (Okabe–Ito), then greys.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999"]
_DRAWN: dict[str, bytes] = {}  # by content key: what this process drew or read (forked workers inherit it)


class ChartStore(Protocol):
    """Pictures kept between runs, by content key."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


@functools.cache
def _code_key() -> str:
    """What the drawing depends on besides the chart: this code, fmt's, voceunica's and matplotlib's versions."""
    from importlib.metadata import PackageNotFoundError, version

    from voceunica import __version__

    try:
        mpl = version("matplotlib")
    except PackageNotFoundError:
        mpl = "?"
    h = hashlib.sha256(f"voceunica {__version__}\0matplotlib {mpl}\0".encode())
    for module in (__file__, fmt.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()


def chart_key(chart: RChart, lang: str) -> str:
    """The hash of everything the picture shows (not its file name, title or alt text: not drawn)."""
    drawn = [_code_key(), lang, chart.kind, chart.x_label, chart.categories, chart.series, chart.unit,
             chart.decimals]
    return hashlib.sha256(json.dumps(drawn, ensure_ascii=False).encode("utf-8")).hexdigest()


def png(chart: RChart, lang: str, store: ChartStore | None = None) -> bytes:
    """The chart as PNG bytes, drawn only if neither this process nor `store` has it."""
    return _once(chart_key(chart, lang), lambda: render_png(chart, lang), store)


def figure(kind: str, content: object, draw: Callable[[], bytes], store: ChartStore | None = None) -> bytes:
    """Any other picture, drawn once per content like a chart: `content` is a value whose repr holds
    everything the picture shows (a procedure timeline, its file name blanked)."""
    return _once(hashlib.sha256(f"{kind}\0{_code_key()}\0{content!r}".encode()).hexdigest(), draw, store)


def _once(key: str, draw: Callable[[], bytes], store: ChartStore | None) -> bytes:
    data = _DRAWN.get(key)
    if data is None:
        data = store.get(key) if store is not None else None
        if data is None:
            data = draw()
            if store is not None:
                store.put(key, data)
        _DRAWN[key] = data
    return data


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
