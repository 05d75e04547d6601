"""One plotting style for the book: colours per optimizer, coupled solid / decoupled dashed, figure
files and provenance captions.

* :func:`set_style` - the seaborn / matplotlib theme every chapter uses.
* :func:`optimizer_color`, :func:`optimizer_linestyle`, :func:`optimizer_style` - a fixed colour per
  coupled/decoupled *pair* (sgd/sgdw, adam/adamw, signum/signumw); the coupled member is drawn solid,
  the decoupled one dashed (:func:`nc_core.optim.is_decoupled`).
* :func:`plot_against_weight_decay` - mean +- 1 std of a metric against weight decay (Figures 1, 3).
* :func:`save_figure` - write a figure as PNG (``book/generated/figures/<name>.png`` by default).
* :func:`provenance_caption` - a one-paragraph Markdown caption saying where a figure's numbers came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.ticker as mticker
import pandas as pd
from matplotlib.figure import Figure

from .optim import COUPLED_DECOUPLED_PAIRS, is_decoupled

__all__ = [
    "DEFAULT_FIGURE_FOLDER",
    "OPTIMIZER_LABELS",
    "PAIR_COLORS",
    "optimizer_color",
    "optimizer_label",
    "optimizer_linestyle",
    "optimizer_style",
    "plot_against_weight_decay",
    "provenance_caption",
    "save_figure",
    "set_style",
]

#: Where :func:`save_figure` writes by default (relative to the working directory: the repository root).
DEFAULT_FIGURE_FOLDER = Path("book/generated/figures")

#: One colour per coupled/decoupled pair, keyed by the coupled member (tab10 colours).
PAIR_COLORS: dict[str, str] = {"sgd": "#1f77b4", "adam": "#d62728", "signum": "#2ca02c"}
_OTHER_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

#: Display names of the optimizers (the paper's spelling).
OPTIMIZER_LABELS: dict[str, str] = {
    "sgd": "SGD", "sgdw": "SGDW", "adam": "Adam", "adamw": "AdamW", "signum": "Signum",
    "signumw": "SignumW", "adam_adamw": "Adam/AdamW",
}  # fmt: skip


def set_style() -> None:
    """Apply the book's theme (seaborn ``whitegrid``, ``notebook`` context, 110 dpi figures)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "legend.fontsize": 9, "axes.titlesize": 11})


def _pair_key(name: str) -> str:
    key = name.lower()
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        if key in (coupled, decoupled):
            return coupled
    return key


def optimizer_color(name: str) -> str:
    """The colour of optimizer ``name``: shared by the two members of a coupled/decoupled pair."""
    key = _pair_key(name)
    if key in PAIR_COLORS:
        return PAIR_COLORS[key]
    return _OTHER_COLORS[sum(map(ord, key)) % len(_OTHER_COLORS)]


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


def plot_against_weight_decay(ax: Any, summary: pd.DataFrame, optimizers: list[str], metric: str) -> None:
    """Draw ``metric``'s mean (line and markers) +- 1 standard deviation (shaded) against weight decay for
    each optimizer, from :func:`nc_core.sweep.summarise_by` over ``["optimizer", "weight_decay"]``.

    Both axes are logarithmic, as in the paper's Figures 1 and 3; weight decay 0 sits on a linear stretch
    of a symmetric-log x axis (``symlog``, linear below the smallest positive weight decay). The band's
    lower edge is cut at mean / 100 (a log axis cannot show mean - std <= 0).
    """
    positive = summary.loc[summary["weight_decay"] > 0, "weight_decay"]
    for opt in optimizers:
        g = summary[summary["optimizer"] == opt].sort_values("weight_decay")
        if g.empty:
            continue
        style = optimizer_style(opt)
        mean, std = g[f"{metric} mean"], g[f"{metric} std"].fillna(0.0)
        ax.plot(g["weight_decay"], mean, marker="o", ms=4, **style)
        ax.fill_between(g["weight_decay"], (mean - std).clip(lower=mean / 100), mean + std,
                        color=style["color"], alpha=0.18, lw=0)  # fmt: skip
    ax.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1e-5)
    ticks = sorted(set(summary.loc[summary["optimizer"].isin(optimizers), "weight_decay"]))
    ax.set_xticks(ticks, [f"{w:g}" for w in ticks], rotation=45 if len(ticks) > 5 else 0)
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set(yscale="log", xlabel="weight decay", title=metric.removesuffix("_code"))
    # plain numbers on the log axis (1.5, not 1.5 x 10^0), minor ticks labelled only over a short range
    ax.yaxis.set_major_formatter(mticker.LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(mticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))


def save_figure(fig: Figure, name: str, folder: str | Path = DEFAULT_FIGURE_FOLDER) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` (folder created as needed) and return the path."""
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path


def _values(df: pd.DataFrame, column: str) -> list[Any]:
    if column not in df:
        return []
    return sorted({v for v in df[column].dropna().tolist()}, key=str)


def _join(values: list[Any]) -> str:
    return ", ".join(map(str, values)) if values else "n/a"


def provenance_caption(finals: pd.DataFrame, min_train_acc: float | None = None) -> str:
    """A Markdown caption for results taken from ``finals`` (final records, one row per run).

    Names the profile(s), the number of runs with how many are valid (completed with training accuracy
    >= ``min_train_acc``, by default the paper's 99%), diverged or otherwise; epochs, samples per class,
    width, device(s), git commit(s), the date range of the records (``recorded_at``) and the total
    compute time (training + metrics).
    """
    from .profiles import VALID_TRAIN_ACC

    threshold = VALID_TRAIN_ACC if min_train_acc is None else min_train_acc
    n = len(finals)
    if n == 0:
        return "*Provenance:* no runs."
    status = finals["status"] if "status" in finals else pd.Series("unknown", index=finals.index)
    acc = finals["train_acc"] if "train_acc" in finals else pd.Series(float("nan"), index=finals.index)
    completed = int((status == "completed").sum())
    valid = int(((status == "completed") & (acc >= threshold)).sum())
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
