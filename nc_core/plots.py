"""One plotting style for the book: colours per optimizer, coupled solid / decoupled dashed, figure
files and provenance captions.

* :func:`set_style` - the seaborn / matplotlib theme every chapter uses.
* :func:`optimizer_color`, :func:`optimizer_linestyle`, :func:`optimizer_marker`, :func:`optimizer_style` -
  a colour of its own per optimizer, the two members of a coupled/decoupled pair in neighbouring hues
  (SGD blue / SGDW cyan, Adam red / AdamW orange, Signum green / SignumW olive), the coupled member drawn
  solid with circles, the decoupled one dashed with squares (:func:`nc_core.optim.is_decoupled`): two
  optimizers stay apart even where a figure spends the line style on something else.
* :func:`readable_log_axes` - every logarithmic axis labelled at readable major ticks (at least two labels
  in view, decades / 1-2-5 / plain steps by the range, labels as short as keeps them distinct, minor
  ticks unlabelled); :func:`save_figure` applies it to every figure it saves.
* :func:`plot_against_weight_decay` - mean +- 1 std of a metric against weight decay (Figures 1, 3);
  :func:`plot_seeds_against_weight_decay` - the same over seeds with every run shown (valid or not).
* :func:`save_figure` - check that a reader can read the figure (:mod:`nc_core.figure_check`: no
  overlapping or duplicate tick labels, no text too small at the width it is shown at; it raises
  otherwise), then write it as PNG (``book/generated/figures/<name>.png`` by default) with the numbers it
  shows beside it (``<name>.csv``, :func:`figure_data`); :func:`show_figure` also shows it with a link to
  that data underneath (:func:`figure_data_link`).
* :func:`provenance_caption` - a one-paragraph Markdown caption saying where a figure's numbers came from
  (and, while ``nc_core book execute`` runs the page, a note of those runs for its status page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .optim import COUPLED_DECOUPLED_PAIRS, is_decoupled

__all__ = [
    "BAND_MIN_RUNS",
    "DEFAULT_FIGURE_FOLDER",
    "OPTIMIZER_COLORS",
    "ReadableLogFormatter",
    "ReadableLogLocator",
    "FIGURE_DATA_COLUMNS",
    "OPTIMIZER_LABELS",
    "PAGE_FOLDER",
    "RUNS_RECORD_ENV",
    "PAIR_COLORS",
    "figure_data",
    "figure_data_link",
    "heatmap_by_momentum",
    "optimizer_color",
    "optimizer_label",
    "optimizer_linestyle",
    "optimizer_marker",
    "optimizer_style",
    "pair_color",
    "plot_against_weight_decay",
    "plot_seeds_against_weight_decay",
    "provenance_caption",
    "readable_log_axes",
    "save_figure",
    "set_style",
    "show_figure",
]

#: Where :func:`save_figure` writes by default (relative to the working directory: the repository root).
DEFAULT_FIGURE_FOLDER = Path("book/generated/figures")

#: One colour per optimizer; the members of a coupled/decoupled pair in neighbouring hues (tab10 / tab20).
OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#1f77b4", "sgdw": "#17becf", "adam": "#d62728", "adamw": "#ff7f0e",
    "signum": "#2ca02c", "signumw": "#98a11a", "adam_adamw": "#bc80bd",
    "lion": "#9467bd", "lion_coupled": "#5b3a8c", "sgd_schedulefree": "#8c564b",
    "adamw_schedulefree": "#c49c94", "muon": "#e377c2", "muon_all": "#7f7f7f",
}  # fmt: skip
#: One colour per coupled/decoupled pair (the coupled member's), for figures that draw a pair as one thing.
PAIR_COLORS: dict[str, str] = {
    "sgd": "#1f77b4", "adam": "#d62728", "signum": "#2ca02c",
    "lion_coupled": "#9467bd", "sgd_schedulefree": "#8c564b", "muon": "#e377c2", "muon_all": "#17becf",
}  # fmt: skip
_OTHER_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

#: Display names of the optimizers (the paper's spelling).
OPTIMIZER_LABELS: dict[str, str] = {
    "sgd": "SGD", "sgdw": "SGDW", "adam": "Adam", "adamw": "AdamW", "signum": "Signum",
    "signumw": "SignumW", "adam_adamw": "Adam/AdamW",
    # beyond the paper
    "lion": "Lion", "lion_coupled": "Lion (coupled)", "sgd_schedulefree": "SGD-SF",
    "adamw_schedulefree": "AdamW-SF", "muon": "Muon", "muon_all": "Muon (+ classifier)",
}  # fmt: skip


def set_style() -> None:
    """Apply the book's theme (seaborn ``whitegrid``, ``notebook`` context, 110 dpi figures), with font sizes
    that stay readable (:data:`nc_core.figure_check.MIN_TEXT_PX`) in a figure up to 8.5 inches wide shown in
    the book's column: 10 pt legends and tick labels, 11 pt titles and axis labels."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 150, "legend.fontsize": 10, "legend.title_fontsize": 10,
        "axes.titlesize": 11, "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10,
        "figure.titlesize": 12,
    })  # fmt: skip


def _pair_key(name: str) -> str:
    key = name.lower()
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        if key in (coupled, decoupled):
            return coupled
    return key


def optimizer_color(name: str) -> str:
    """The colour of optimizer ``name`` (:data:`OPTIMIZER_COLORS`): its own, in a hue next to its pair's
    other member; an unknown name gets a fixed colour of its own spelling."""
    key = name.lower()
    if key in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[key]
    return _OTHER_COLORS[sum(map(ord, key)) % len(_OTHER_COLORS)]


def pair_color(name: str) -> str:
    """The colour of the coupled/decoupled pair ``name`` belongs to (:data:`PAIR_COLORS`), for figures that
    draw a pair as one thing (e.g. a decoupled/coupled ratio)."""
    key = _pair_key(name)
    return PAIR_COLORS.get(key) or optimizer_color(key)


def optimizer_marker(name: str) -> str:
    """``"s"`` (square) for decoupled weight decay, ``"o"`` (circle) for coupled (or unknown names)."""
    return "s" if optimizer_linestyle(name) == "--" else "o"


def optimizer_linestyle(name: str) -> str:
    """``"--"`` (dashed) for decoupled weight decay, ``"-"`` (solid) for coupled (or unknown names)."""
    try:
        return "--" if is_decoupled(name) else "-"
    except (KeyError, ValueError):
        return "-"


def optimizer_label(name: str) -> str:
    """The paper's spelling of optimizer ``name`` (``"adamw"`` -> ``"AdamW"``)."""
    return OPTIMIZER_LABELS.get(name.lower(), name)


def optimizer_style(name: str) -> dict[str, Any]:
    """Keyword arguments for ``ax.plot``: ``color``, ``linestyle`` and ``label`` of optimizer ``name``."""
    return {
        "color": optimizer_color(name),
        "linestyle": optimizer_linestyle(name),
        "label": optimizer_label(name),
    }


class ReadableLogLocator(mticker.Locator):
    """Major ticks of a logarithmic axis that leave at least two labels in view: decades where the view
    spans at least one (thinned to about ``max_ticks``), else 1-2-5 steps where three of them fall in it,
    else plain linear steps (``0.8, 1, 1.2, ...``; a factor of under 2.5 on a log axis)."""

    def __init__(self, max_ticks: int = 7) -> None:
        self.max_ticks = max_ticks

    def __call__(self) -> Any:
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        """The tick positions for a view from ``vmin`` to ``vmax`` (either order; non-positive ends are
        treated as matplotlib's log axis does, by the positive part)."""
        vmin, vmax = sorted((float(vmin), float(vmax)))
        if not np.isfinite(vmax) or vmax <= 0:
            return mticker.LogLocator(numticks=self.max_ticks).tick_values(1e-3, 1.0)
        vmin = vmin if vmin > 0 and np.isfinite(vmin) else vmax / 10

        def inside(ticks: Any) -> int:
            return int(np.sum((ticks >= vmin * (1 - 1e-9)) & (ticks <= vmax * (1 + 1e-9))))

        def at(subs: tuple[float, ...], stride: int = 1) -> Any:  # every stride-th decade times subs
            low, high = int(np.floor(np.log10(vmin))) - 1, int(np.ceil(np.log10(vmax))) + 1
            return np.array([m * 10.0**e for e in range(low, high + 1) if e % stride == 0 for m in subs])

        decades = at((1.0,))
        stride = 1
        while inside(decades) > self.max_ticks:
            stride += 1
            decades = at((1.0,), stride)
        if inside(decades) >= 2:
            return decades
        steps = at((1.0, 2.0, 5.0))
        if inside(steps) >= 3 or (inside(steps) >= 2 and vmax / vmin >= 2.5):
            return steps
        linear = mticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]).tick_values(vmin, vmax)
        return linear[linear > 0]


def _short(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits: plain from 0.001 to 10,000, else as a power of ten."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    if 1e-3 <= abs(value) < 1e4:  # positional, never "1e+03"
        return np.format_float_positional(float(f"{value:.{digits}g}"), trim="-")
    exponent = int(np.floor(np.log10(abs(value))))
    mantissa = float(f"{value / 10**exponent:.{digits}g}")
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    head = "" if mantissa == 1 else f"{mantissa:g}\\times"
    return f"${head}10^{{{exponent}}}$"


class ReadableLogFormatter(mticker.Formatter):
    """Labels of :class:`ReadableLogLocator`'s ticks: as few significant digits as keep the labels of one
    axis distinct (``0.8, 0.9, 1`` not ``8e-01``), plain numbers from 0.001 to 10,000, powers of ten
    beyond (``10^-5``, ``2x10^-5``)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _short(x, 3)

    def format_ticks(self, values: Any) -> list[str]:
        """Labels for ``values``, with the fewest significant digits (1 to 6) that keep them distinct and
        state each value exactly (1.75 is never labelled 1.8)."""
        values = [float(v) for v in values]
        for digits in range(1, 7):
            exact = all(np.isclose(float(f"{v:.{digits}g}"), v, rtol=1e-9, atol=0) for v in values)
            labels = [_short(v, digits) for v in values]
            if exact and len(set(labels)) == len(labels):
                return labels
        return [_short(v, 6) for v in values]


#: The narrowest view a log axis keeps (a factor): flatter data are shown over this span around their centre.
FLAT_SPAN = 1.2


def readable_log_axes(fig: Figure) -> Figure:
    """Give every logarithmic axis of ``fig`` (colour bars included) whose major ticks are matplotlib's
    default (a ``LogLocator``) the book's readable ticks (:class:`ReadableLogLocator`,
    :class:`ReadableLogFormatter`) and unlabelled minor ticks; axes whose ticks were set by hand (fixed
    ticks, categories) keep them. A log axis whose view spans less than a factor of :data:`FLAT_SPAN` (data
    that barely move: every label would read the same) is widened to that factor around its centre.
    Returns ``fig``."""
    for ax in fig.axes:
        for axis, set_lim in ((ax.xaxis, ax.set_xlim), (ax.yaxis, ax.set_ylim)):
            if axis.get_scale() != "log" or type(axis.get_major_locator()) is not mticker.LogLocator:
                continue
            lo, hi = sorted(axis.get_view_interval())
            if lo > 0 and hi / lo < FLAT_SPAN:
                mid = float(np.sqrt(lo * hi))
                set_lim(mid / np.sqrt(FLAT_SPAN), mid * np.sqrt(FLAT_SPAN))
            axis.set_major_locator(ReadableLogLocator())
            axis.set_major_formatter(ReadableLogFormatter())
            axis.set_minor_formatter(mticker.NullFormatter())
    return fig


#: Fewest runs at a point for a band (mean +- 1 standard deviation); fewer are drawn one by one.
BAND_MIN_RUNS = 3
#: Legend entries of :func:`plot_against_weight_decay`: what a band is, and runs drawn one by one.
BAND_LABEL = f"band: \u00b11 std over \u2265{BAND_MIN_RUNS} runs"
PAIR_LABEL = "2 runs at a point: both shown"


def plot_against_weight_decay(ax: Any, summary: pd.DataFrame, optimizers: list[str], metric: str) -> None:
    """Draw ``metric``'s mean (line and markers) against weight decay for each optimizer, from
    :func:`nc_core.sweep.summarise_by` over ``["optimizer", "weight_decay"]`` (columns ``n``,
    ``<metric> mean``, ``<metric> std``), with what the runs at each point say about its spread:

    * where :data:`BAND_MIN_RUNS` or more runs share a point, a band of +- 1 standard deviation over them
      (its legend entry says so; its lower edge cut at mean / 100, a log axis cannot show mean - std <= 0);
    * where two runs share it, the two runs themselves (small hollow markers joined by a thin line: with
      two values a and b, mean +- std / sqrt(2) are exactly a and b), not a band that would read as an
      uncertainty;
    * one run: its marker.

    Both axes are logarithmic, as in the paper's Figures 1 and 3; weight decay 0 sits on a linear stretch
    of a symmetric-log x axis (``symlog``, linear below the smallest positive weight decay).
    """
    band_said = pair_said = False
    for opt in optimizers:
        g = summary[summary["optimizer"] == opt].sort_values("weight_decay")
        if g.empty:
            continue
        style = optimizer_style(opt)
        marker = optimizer_marker(opt)
        mean, std = g[f"{metric} mean"], g[f"{metric} std"].fillna(0.0)
        n = g["n"] if "n" in g else pd.Series(BAND_MIN_RUNS, index=g.index)
        ax.plot(g["weight_decay"], mean, marker=marker, ms=4, **style)
        many = n >= BAND_MIN_RUNS
        if many.any():
            lower = (mean - std).clip(lower=mean / 100).where(many)
            ax.fill_between(g["weight_decay"], lower, (mean + std).where(many), color=style["color"],
                            alpha=0.18, lw=0, label="_band")  # fmt: skip
            if not band_said:  # one grey legend entry says what every band is
                ax.fill_between([], [], color="0.55", alpha=0.35, lw=0, label=BAND_LABEL)
                band_said = True
        two = g[n == 2]
        if len(two):
            half = two[f"{metric} std"] / np.sqrt(2)
            lo, hi = two[f"{metric} mean"] - half, two[f"{metric} mean"] + half
            ax.vlines(two["weight_decay"], lo, hi, color=style["color"], lw=0.8, alpha=0.7)
            label = "" if pair_said else PAIR_LABEL
            ax.scatter(np.r_[two["weight_decay"], two["weight_decay"]], np.r_[lo, hi], s=16, marker=marker,
                       facecolors="none", edgecolors=style["color"], lw=0.9,
                       label=label or "_runs")  # fmt: skip
            pair_said = True
    _weight_decay_axes(ax, summary, optimizers, metric)


def _weight_decay_axes(ax: Any, frame: pd.DataFrame, optimizers: list[str], metric: str) -> None:
    """Weight decay on a symmetric-log x axis (0 on its linear stretch, ticks at the values drawn), the metric
    on a log y axis with plain-number labels."""
    positive = frame.loc[frame["weight_decay"] > 0, "weight_decay"]
    ax.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1e-5)
    ticks = sorted(set(frame.loc[frame["optimizer"].isin(optimizers), "weight_decay"]))
    _decay_ticks(ax, ticks)
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set(yscale="log", xlabel="weight decay", title=metric.removesuffix("_code"))
    ax.yaxis.set_major_locator(ReadableLogLocator())  # at least two plain-number labels in view
    ax.yaxis.set_major_formatter(ReadableLogFormatter())
    ax.yaxis.set_minor_formatter(mticker.NullFormatter())


def _decay_ticks(ax: Any, ticks: list[float]) -> None:
    """Label the weight decays ``ticks`` on ``ax``'s symmetric-log x axis; turned by 45 degrees where there
    are more than four or two positive ones lie within a factor of 3 of each other (0.005 and 0.01 side by
    side read "0.0050.01")."""
    positive = [w for w in ticks if w > 0]
    close = any(b / a < 3 for a, b in zip(positive, positive[1:], strict=False))
    turn = len(ticks) > 4 or close
    style = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if turn else {}
    ax.set_xticks(ticks, [f"{w:g}" for w in ticks], **style)


def plot_seeds_against_weight_decay(ax: Any, runs: pd.DataFrame, optimizers: list[str], metric: str) -> None:
    """Every run of ``optimizers`` as a dot against weight decay, filled when it counts (``runs["valid"]``)
    and hollow when it does not, with the mean over the valid runs at each weight decay as a line and its
    +- 1 standard deviation over those runs (the seeds) as a band; each optimizer in its pair's colour,
    coupled solid with circles, decoupled dashed with squares. Axes as :func:`plot_against_weight_decay`
    (weight decay 0 on the linear stretch of a symmetric-log axis, the metric logarithmic)."""
    for opt in optimizers:
        mine = runs[runs["optimizer"] == opt]
        if mine.empty:
            continue
        style = optimizer_style(opt)
        marker = optimizer_marker(opt)
        ok, bad = mine[mine["valid"]], mine[~mine["valid"]]
        g = ok.groupby("weight_decay")[metric].agg(["mean", "std", "size"]).reset_index()
        ax.plot(g["weight_decay"], g["mean"], marker=marker, ms=5, **style)
        std = g["std"].fillna(0.0)
        ax.fill_between(g["weight_decay"], (g["mean"] - std).clip(lower=g["mean"] / 100), g["mean"] + std,
                        color=style["color"], alpha=0.15, lw=0)  # fmt: skip
        ax.scatter(ok["weight_decay"], ok[metric], s=14, marker=marker, color=style["color"], alpha=0.7, lw=0)
        if len(bad):
            label = f"{style['label']}: below 99% training accuracy"
            ax.scatter(bad["weight_decay"], bad[metric], s=22, marker=marker, facecolors="none",
                       edgecolors=style["color"], label=label)  # fmt: skip
    _weight_decay_axes(ax, runs, optimizers, metric)


def save_figure(
    fig: Figure, name: str, folder: str | Path = DEFAULT_FIGURE_FOLDER, data: pd.DataFrame | None = None
) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` (folder created as needed) and return the path.

    Its log axes get readable ticks first (:func:`readable_log_axes`); then it must pass the reader's
    check (:func:`nc_core.figure_check.require_readable`: no overlapping or duplicate tick labels, no text
    under :data:`nc_core.figure_check.MIN_TEXT_PX` at the width the book shows it), or nothing is written
    and :class:`nc_core.figure_check.FigureCheckError` says what is wrong.

    Beside it, ``<name>.csv`` holds the numbers the figure shows (:func:`figure_data`: every line, scatter,
    band, bar and image of every panel, long format); ``data`` (e.g. the runs behind the figure, with their
    ids) is written too, as ``<name>.source.csv``. :func:`figure_data_link` links both under a figure.
    """
    from .figure_check import require_readable

    readable_log_axes(fig)
    require_readable(fig, name)
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    figure_data(fig).to_csv(path.with_suffix(".csv"), index=False)
    source = path.with_suffix(".source.csv")
    if data is not None:
        data.to_csv(source, index=any(n is not None for n in data.index.names))  # a named index is data
    else:
        source.unlink(missing_ok=True)  # a stale table of an earlier build would be linked otherwise
    return path


#: Columns of :func:`figure_data` (``value``, ``x_tick``, ``y_tick``, ``row``, ``col``, ``bottom`` and
#: ``channel`` are added where a panel needs them).
FIGURE_DATA_COLUMNS = ("panel", "title", "xlabel", "ylabel", "kind", "label", "series", "point", "x", "y")

#: Where the book's pages are (relative to the working directory): :func:`figure_data_link` links from there.
#: ``nc_core book execute`` sets ``NC_CORE_BOOK_PAGES`` to the folder it writes the pages to.
PAGE_FOLDER = DEFAULT_FIGURE_FOLDER.parent


def _column(values: Any) -> np.ndarray:
    """``values`` as a flat array, masked entries as NaN (objects such as strings or dates kept)."""
    arr = np.ma.asarray(values)
    if np.ma.is_masked(arr) and arr.dtype.kind in "fiu":
        return arr.astype(float).filled(np.nan).ravel()
    return np.asarray(arr.data if isinstance(arr, np.ma.MaskedArray) else arr).ravel()


def _label(artist: Any) -> str:
    label = str(artist.get_label() or "")
    return "" if label.startswith("_") else label  # matplotlib's own "_child0", "_nolegend_"


def _tick_labels(ticks: np.ndarray, labels: list[str], centres: np.ndarray) -> list[str]:
    """The tick label at each of ``centres`` ("" where no tick sits there): a heatmap's categories."""
    out = []
    for c in centres:
        hit = np.flatnonzero(np.isclose(ticks, c)) if len(ticks) else []
        out.append(labels[hit[0]] if len(hit) else "")
    return out


def _panel_rows(ax: Any) -> list[dict[str, Any]]:
    """The numbers drawn in one panel, one row per point (see :func:`figure_data`)."""
    from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh

    rows: list[dict[str, Any]] = []

    def add(kind: str, label: str, series: int, **columns: Any) -> None:
        n = max(len(v) for v in columns.values())
        for i in range(n):
            rows.append({"kind": kind, "label": label, "series": series, "point": i,
                         **{k: v[i] for k, v in columns.items()}})  # fmt: skip

    for s, line in enumerate(ax.get_lines()):
        x, y = _column(line.get_xdata(orig=True)), _column(line.get_ydata(orig=True))
        if len(x) == len(y) and len(x):
            add("line", _label(line), s, x=x, y=y)
    for s, coll in enumerate(ax.collections):
        if isinstance(coll, QuadMesh):  # pcolormesh, seaborn's heatmap: one value per cell
            corners = np.asarray(coll.get_coordinates())
            centres = (corners[:-1, :-1] + corners[1:, 1:]) / 2
            values = np.ma.asarray(coll.get_array()).astype(float).filled(np.nan).reshape(centres.shape[:2])
            rr, cc = np.indices(values.shape)
            x, y = centres[..., 0].ravel(), centres[..., 1].ravel()
            x_tick = _tick_labels(ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()], x)
            y_tick = _tick_labels(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], y)
            cells = {"value": values.ravel(), "row": rr.ravel(), "col": cc.ravel()}
            add("mesh", _label(coll), s, x=x, y=y, **cells, x_tick=x_tick, y_tick=y_tick)
        elif isinstance(coll, PathCollection):  # scatter
            offsets = np.ma.asarray(coll.get_offsets()).astype(float).filled(np.nan).reshape(-1, 2)
            if len(offsets):
                add("scatter", _label(coll), s, x=offsets[:, 0], y=offsets[:, 1])
        elif isinstance(coll, PolyCollection):  # fill_between bands, fills: the polygons' vertices
            for k, path in enumerate(coll.get_paths()):
                v = np.asarray(path.vertices, dtype=float)
                add("area", _label(coll), s, x=v[:, 0], y=v[:, 1], part=np.full(len(v), k))
        elif isinstance(coll, LineCollection):  # error bars, vlines, hlines: segment end points
            for k, seg in enumerate(coll.get_segments()):
                v = np.asarray(seg, dtype=float).reshape(-1, 2)
                add("segments", _label(coll), s, x=v[:, 0], y=v[:, 1], part=np.full(len(v), k))
    for s, container in enumerate(getattr(ax, "containers", [])):
        bars = [p for p in container if hasattr(p, "get_height")] if hasattr(container, "patches") else []
        if bars:
            horizontal = getattr(container, "orientation", "vertical") == "horizontal"
            centre = np.array([p.get_y() + p.get_height() / 2 if horizontal else p.get_x() + p.get_width() / 2
                               for p in bars])  # fmt: skip
            size = np.array([p.get_width() if horizontal else p.get_height() for p in bars])
            base = np.array([p.get_x() if horizontal else p.get_y() for p in bars])
            x, y = (size, centre) if horizontal else (centre, size)
            axis = ax.yaxis if horizontal else ax.xaxis
            ticks = {("y_tick" if horizontal else "x_tick"): _tick_labels(
                axis.get_ticklocs(), [t.get_text() for t in axis.get_ticklabels()], centre)}  # fmt: skip
            add("barh" if horizontal else "bar", _label(container), s, x=x, y=y, bottom=base, **ticks)
    for s, image in enumerate(ax.get_images()):
        arr = np.ma.asarray(image.get_array())
        arr = arr.astype(float).filled(np.nan) if arr.dtype.kind in "fiub" else np.asarray(arr)
        left, right, bottom, top = image.get_extent()
        ny, nx = arr.shape[:2]
        rr, cc = np.indices((ny, nx))
        # pixel centres in data coordinates (origin "upper": row 0 at the top, the extent's ``top``)
        xs = left + (cc + 0.5) * (right - left) / nx
        ys = (
            top + (rr + 0.5) * (bottom - top) / ny
            if image.origin == "upper"
            else bottom + (rr + 0.5) * (top - bottom) / ny
        )
        channels = arr.shape[2] if arr.ndim == 3 else 0
        for ch in range(max(channels, 1)):
            values = arr[..., ch] if channels else arr
            extra = {"channel": np.full(ny * nx, ch)} if channels else {}
            add("image", _label(image), s, x=xs.ravel(), y=ys.ravel(), value=values.ravel(), row=rr.ravel(),
                col=cc.ravel(), **extra)  # fmt: skip
    return rows


def figure_data(fig: Figure) -> pd.DataFrame:
    """The numbers ``fig`` shows, in long format: one row per plotted point of every panel.

    Columns: ``panel`` (1, 2, ... in the figure's order of axes; colour bars are left out), its ``title``,
    ``xlabel`` and ``ylabel``; ``kind`` (``line``, ``scatter``, ``area`` -- the vertices of a band such as
    ``fill_between`` --, ``segments``, ``bar``/``barh`` with ``bottom``, ``mesh`` -- a heatmap cell with its
    ``row``, ``col``, ``value`` and the ``x_tick``/``y_tick`` labels at its centre --, ``image`` -- a pixel
    with ``row``, ``col``, ``value``); ``label`` (the legend label, "" for unlabelled artists), ``series``
    (the artist's index among the panel's lines, collections, bar groups or images), ``point`` (the index
    along the artist) and ``x``, ``y`` exactly as given to matplotlib (for lines: the data as passed to
    ``plot``; for categorical bars the category's position, its name in ``x_tick`` / ``y_tick``).
    """
    rows = []
    panels = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is None]
    for n, ax in enumerate(panels, start=1):
        title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
        meta = {"panel": n, "title": title, "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel()}
        rows += [{**meta, **row} for row in _panel_rows(ax)]
    df = pd.DataFrame(rows)
    extra = [c for c in df.columns if c not in FIGURE_DATA_COLUMNS]
    return df.reindex(columns=[*FIGURE_DATA_COLUMNS, *extra])


def figure_data_link(png: str | Path, page_folder: str | Path | None = None) -> Any:
    """A Markdown line linking the data of a figure saved by :func:`save_figure` (``png``: its path):
    ``<name>.csv`` and, where written, ``<name>.source.csv``; links are relative to ``page_folder`` (by
    default ``NC_CORE_BOOK_PAGES`` or :data:`PAGE_FOLDER`), where the page showing the figure lives."""
    import os

    from IPython.display import Markdown

    png = Path(png)
    folder = Path(page_folder or os.environ.get("NC_CORE_BOOK_PAGES") or PAGE_FOLDER)

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()

    csv, source = png.with_suffix(".csv"), png.with_suffix(".source.csv")
    links = [f"[{csv.name}]({rel(csv)}) (the numbers plotted)"]
    if source.exists():
        links.append(f"[{source.name}]({rel(source)}) (the table it was drawn from)")
    return Markdown("**Data:** " + "; ".join(links))


def show_figure(
    fig: Figure, name: str, folder: str | Path = DEFAULT_FIGURE_FOLDER, data: pd.DataFrame | None = None
) -> Path:
    """Save ``fig`` with its data (:func:`save_figure`), show it in the notebook with the link to its data
    underneath (:func:`figure_data_link`), close it, and return the PNG's path: the book's
    ``save_figure(...); plt.show()``."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    path = save_figure(fig, name, folder, data)
    display(fig)
    plt.close(fig)
    display(figure_data_link(path))
    return path


def _values(df: pd.DataFrame, column: str) -> list[Any]:
    if column not in df:
        return []
    values = {v for v in df[column].dropna().tolist()}
    numeric = all(isinstance(v, int | float | np.integer | np.floating) for v in values)
    return sorted(values) if numeric else sorted(values, key=str)  # numbers in numeric order: 15, 60, 240


def _join(values: list[Any]) -> str:
    return ", ".join(map(str, values)) if values else "n/a"


#: Set by ``nc_core book execute`` while a page runs: the JSON-lines file where
#: :func:`nc_core.book.status.record_runs` notes the runs the page read, for the book's status page.
RUNS_RECORD_ENV = "NC_CORE_BOOK_RUNS"


def provenance_caption(finals: pd.DataFrame, min_train_acc: float | None = None) -> str:
    """A Markdown caption for results taken from ``finals`` (final records, one row per run).

    Names the profile(s), the number of runs with how many are valid (completed with training accuracy
    >= ``min_train_acc``, by default the rule of the runs' profile, :func:`nc_core.profiles.min_train_acc`),
    diverged or otherwise; epochs, samples per class,
    width, device(s), git commit(s), the date range of the records (``recorded_at``) and the total
    compute time (training + metrics).
    """
    from .profiles import PROFILES, mask_at
    from .profiles import min_train_acc as profile_rule

    if min_train_acc is None:  # the rule of the runs' own profile (the strictest where they mix profiles)
        profs = [p for p in (set(finals["profile"]) if "profile" in finals else set()) if p in PROFILES]
        threshold = max((profile_rule(p) for p in profs), default=profile_rule("paper"))
    else:
        threshold = min_train_acc
    n = len(finals)
    if n == 0:
        return "*Provenance:* no runs."
    status = finals["status"] if "status" in finals else pd.Series("unknown", index=finals.index)
    acc = finals["train_acc"] if "train_acc" in finals else pd.Series(float("nan"), index=finals.index)
    completed = int((status == "completed").sum())
    valid = int(mask_at(pd.DataFrame({"status": status, "train_acc": acc}), threshold).sum())
    diverged = int((status == "diverged").sum())
    other = n - completed - diverged
    subset = (
        ["full" if pd.isna(v) else int(v) for v in finals["subset_per_class"]]
        if "subset_per_class" in finals
        else []
    )
    parts = [
        f"profile {_join(_values(finals, 'profile'))}",
        f"{n} run{'s' if n != 1 else ''} ({completed} completed, {valid} valid with train acc "
        f">= {threshold:.0%}, {diverged} diverged" + (f", {other} other" if other else "") + ")",
        f"epochs {_join(_values(finals, 'epochs'))}",
        f"samples/class {_join(sorted(set(subset), key=str))}",
        f"width {_join(_values(finals, 'width'))}",
        f"device {_join(_values(finals, 'device_name'))}",
        f"commit {_join(_values(finals, 'git_commit'))}",
    ]
    if "recorded_at" in finals and finals["recorded_at"].notna().any():
        dates = pd.to_datetime(finals["recorded_at"], utc=True, errors="coerce").dropna()
        if len(dates):
            lo, hi = dates.min().strftime("%Y-%m-%d %H:%M"), dates.max().strftime("%Y-%m-%d %H:%M")
            parts.append(f"recorded {lo}" + (f" to {hi} UTC" if hi != lo else " UTC"))
    seconds = sum(
        float(finals[c].fillna(0).sum()) for c in ("train_seconds", "metric_seconds") if c in finals
    )
    if seconds:
        parts.append(f"compute {seconds / 60:.1f} min" if seconds >= 60 else f"compute {seconds:.0f} s")
    return "*Provenance:* " + "; ".join(parts) + "."


def plot_by_momentum(
    finals: pd.DataFrame,
    metrics: list[str],
    *,
    optimizers: tuple[str, ...] = ("adam", "adamw"),
    labels: dict[str, str] | None = None,
    title: str = "",
) -> Figure | None:
    """Final metrics against weight decay, one column per momentum and one row per metric, one line per
    optimizer (the pair's colour; coupled solid, decoupled dashed): the layout of the ResNet50 / ImageNet
    figures (Figures 17, 18: Adam vs AdamW at each momentum).

    ``finals`` holds final records (``optimizer``, ``momentum``, ``weight_decay`` and the ``metrics``
    columns); runs sharing a point (seeds) are averaged, non-finite values (diverged runs) left out. A metric
    whose values are all positive and that is not an accuracy (``*_acc``) is drawn on a log axis; weight
    decay 0 sits on the linear stretch of a symmetric-log x axis. ``labels`` renames metrics in the titles
    (default: the column without ``_code``).

    Returns:
        the figure, or ``None`` (nothing drawn) when ``finals`` holds no run of ``optimizers``.

    Raises:
        ValueError: a needed column is missing.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if finals is None or finals.empty or "optimizer" not in finals:
        return None
    runs = finals[finals["optimizer"].isin(optimizers)]
    if runs.empty:
        return None
    missing = sorted({"momentum", "weight_decay", *metrics} - set(runs.columns))
    if missing:
        raise ValueError(f"final records lack column(s) {missing}")
    labels = labels or {}
    momenta = sorted(runs["momentum"].astype(float).unique())
    size = (min(8.6, 2.7 * len(momenta) + 0.6), 2.7 * len(metrics))  # the column: <= 8.6 in
    fig, axes = plt.subplots(len(metrics), len(momenta), figsize=size, layout="constrained", squeeze=False)
    decays = sorted(runs["weight_decay"].astype(float).unique())
    positive = [w for w in decays if w > 0]
    for row, metric in zip(axes, metrics, strict=True):
        values = runs[metric].astype(float)
        finite = values[np.isfinite(values)]
        log = len(finite) > 0 and bool((finite > 0).all()) and not metric.endswith("_acc")
        for ax, momentum in zip(row, momenta, strict=True):
            at = runs[runs["momentum"].astype(float) == momentum]
            for opt in optimizers:
                g = at[(at["optimizer"] == opt) & np.isfinite(at[metric].astype(float))]
                if g.empty:
                    continue
                mean = g.groupby(g["weight_decay"].astype(float))[metric].mean().sort_index()
                x, y = mean.index.to_numpy(), mean.to_numpy(dtype=float)
                ax.plot(x, y, marker=optimizer_marker(opt), ms=4, **optimizer_style(opt))
            ax.set_xscale("symlog", linthresh=min(positive) if positive else 1e-5)
            _decay_ticks(ax, decays)
            ax.xaxis.set_minor_locator(mticker.NullLocator())
            if log:  # readable major ticks (as plot_against_weight_decay)
                ax.set_yscale("log")
                ax.yaxis.set_major_locator(ReadableLogLocator())
                ax.yaxis.set_major_formatter(ReadableLogFormatter())
                ax.yaxis.set_minor_formatter(mticker.NullFormatter())
            name = labels.get(metric, metric.removesuffix("_code"))
            ax.set(xlabel="weight decay", title=f"{name}, momentum {momentum:g}")
    axes[0][-1].legend(loc="best")
    if title:
        fig.suptitle(title)
    return fig


def heatmap_by_momentum(
    ax: Any, finals: pd.DataFrame, metric: str, valid: pd.Series, *, fontsize: float = 9.5
) -> int:
    """A momentum x weight-decay heatmap of ``metric`` (Figure 4): one cell per (momentum, weight decay),
    the mean over its runs, colours on a log scale, the value written in the cell (two significant
    digits); momentum down the rows from the largest at the top. A cell none of whose runs is valid
    (``valid``, a boolean mask aligned with ``finals``: e.g. :func:`nc_core.profiles.valid_mask`, below
    99% training accuracy) is hatched and its number set in italics: its metric is not that of the
    terminal phase.

    Returns:
        the number of hatched cells.
    """
    import seaborn as sns
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    runs = finals.assign(_valid=valid.reindex(finals.index).fillna(False).astype(bool))
    values = runs.pivot_table(index="momentum", columns="weight_decay", values=metric, aggfunc="mean")
    ok = runs.pivot_table(index="momentum", columns="weight_decay", values="_valid", aggfunc="max")
    values = values.sort_index(ascending=False)
    ok = ok.reindex(index=values.index, columns=values.columns).fillna(False).astype(bool)
    positive = values[values > 0]
    sns.heatmap(values, ax=ax, annot=True, fmt=".2g", annot_kws={"fontsize": fontsize}, cmap="viridis",
                cbar=True, norm=LogNorm(vmin=positive.min().min(), vmax=positive.max().max()))  # fmt: skip
    texts = iter(ax.texts)  # seaborn writes the annotations row by row, skipping missing cells
    marked = 0
    for r, momentum in enumerate(values.index):
        for c, decay in enumerate(values.columns):
            if pd.isna(values.loc[momentum, decay]):
                continue
            text = next(texts)
            if not ok.loc[momentum, decay]:
                ax.add_patch(Rectangle((c, r), 1, 1, fill=False, hatch="///", edgecolor="white", lw=0))
                text.set_fontstyle("italic")
                marked += 1
    ax.set(xlabel="weight decay", ylabel="momentum")
    ax.set_xticklabels([f"{w:g}" for w in values.columns])
    ax.set_yticklabels([f"{m:g}" for m in values.index], rotation=0)
    return marked


def scatter_by_optimizer(ax: Any, x: str, y: str, data: pd.DataFrame) -> None:
    """``y`` against ``x`` of the runs in ``data`` on log axes, one series per optimizer in the book's style
    (decoupled optimizers hollow)."""
    for opt in [o for o in OPTIMIZER_LABELS if o in set(data["optimizer"])]:
        g, style = data[data["optimizer"] == opt], optimizer_style(opt)
        hollow = style["linestyle"] == "--"
        ax.scatter(g[x], g[y], s=22, label=style["label"], edgecolors=style["color"],
                   facecolors="none" if hollow else style["color"], linewidths=1.2)  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel=x.removesuffix("_code"), ylabel=y.removesuffix("_code"))
    ax.tick_params(axis="x", which="both", labelrotation=35)  # a range short of a decade labels many ticks


def three_panels(title: str) -> tuple[Figure, list[Any], Any]:
    """Three panels in a 2 x 2 grid drawn for the page's column; the fourth (returned last) holds a legend."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(8, 6.6), layout="constrained")
    axes[1, 1].axis("off")
    fig.suptitle(title)
    return fig, [axes[0, 0], axes[0, 1], axes[1, 0]], axes[1, 1]
