"""The save-time figure check (nc_core.figure_check) on hand-made matplotlib figures: each defect kind it
must catch drawn on purpose, and clean figures it must pass."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pytest

from nc_core import plots
from nc_core.figure_check import FigureCheckError, check_figure, require_readable


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _figure(width: float = 5.0, height: float = 3.5, dpi: float = 100):
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi)
    return fig, ax


def test_clean_figure_passes():
    fig, ax = _figure()
    ax.plot([0, 1, 2, 3], [1, 3, 2, 4], label="a line")
    ax.set(title="clean", xlabel="x", ylabel="y")
    ax.legend(fontsize=10)
    assert check_figure(fig) == []
    require_readable(fig, "clean")  # no error


def test_overlapping_tick_labels_fail():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1])
    # two ticks 0.6 % of the axis apart: "0.0050.01" as the reader saw it on Figure 15
    ax.set_xticks([0.5, 0.506], ["0.005", "0.01"])
    problems = check_figure(fig)
    assert any("overlapping tick labels" in p and "'0.005' / '0.01'" in p for p in problems), problems


def test_touching_labels_without_gap_fail_but_spaced_labels_pass():
    fig, ax = _figure(width=4)
    ax.plot([0, 1], [0, 1])
    renderer = fig.canvas.get_renderer()
    ax.set_xticks([0.2, 0.8], ["3x10^-2", "4x10^-2"])
    assert check_figure(fig) == []  # far apart
    # put the second label exactly where the first one ends: no gap between them
    first = ax.get_xticklabels()[0].get_window_extent(renderer)
    to_data = ax.transData.inverted()
    width_data = to_data.transform([[first.width, 0]])[0][0] - to_data.transform([[0, 0]])[0][0]
    ax.set_xticks([0.2, 0.2 + width_data], ["3x10^-2", "4x10^-2"])
    assert any("overlapping" in p for p in check_figure(fig))


def test_rotated_labels_close_together_pass_when_they_do_not_touch():
    fig, ax = _figure(width=6, height=4)
    ticks = [i / 10 for i in range(11)]
    ax.plot([0, 1], [0, 1])
    # upright, these labels' boxes would overlap; turned by 90 degrees they do not
    ax.set_xticks(ticks, [f"{t:g}e-3" for t in ticks], rotation=90)
    assert check_figure(fig) == []


def test_duplicate_tick_labels_fail():
    fig, ax = _figure()
    ax.plot([0, 1], [0.3, 0.45])
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(mticker.FixedLocator([0.31, 0.34, 0.37, 0.40, 0.43]))
    ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.0e"))  # "3e-01 3e-01 4e-01 4e-01 4e-01"
    ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    problems = check_figure(fig)
    assert any("duplicate tick labels" in p and "'3e-01'" in p and "'4e-01'" in p for p in problems), problems


def test_ticks_outside_the_view_are_not_counted_as_duplicates():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1])
    ax.set_xticks([0.0, 0.5, 1.0, 5.0], ["0", "0.5", "1", "1"])  # the second "1" lies outside the view
    ax.set_xlim(0, 1)
    assert check_figure(fig) == []


def test_tiny_text_fails():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "0.12", fontsize=5)  # 5 pt at 100 dpi: 6.9 px
    problems = check_figure(fig)
    assert len(problems) == 1 and "'0.12'" in problems[0] and "6.9 px" in problems[0], problems


def test_text_readable_when_drawn_becomes_too_small_when_a_wide_figure_is_shown_in_the_column():
    fig, ax = _figure(width=16, height=3)  # 1600 px drawn, shown at 760: scaled by under 0.5
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title", fontsize=12)  # 16.7 px drawn, about 7.7 px shown
    problems = check_figure(fig)
    assert any("'a title'" in p for p in problems), problems
    assert check_figure(fig, column_px=2000) == []  # shown at full size in a wide enough column


def test_hidden_axes_text_is_not_measured():
    fig, axes = plt.subplots(1, 2, figsize=(6, 3), dpi=100)
    axes[0].plot([0, 1], [0, 1])
    axes[1].axis("off")  # its tick labels are not drawn
    for label in axes[1].get_xticklabels():
        label.set_fontsize(3)
    assert check_figure(fig) == []


def test_require_readable_raises_with_the_name():
    fig, ax = _figure()
    ax.set_xlabel("tiny", fontsize=4)
    with pytest.raises(FigureCheckError, match="my_figure"):
        require_readable(fig, "my_figure")


def test_save_figure_refuses_an_unreadable_figure(tmp_path):
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1])
    ax.set_xticks([0.5, 0.502], ["0.005", "0.01"])
    with pytest.raises(FigureCheckError, match="overlapping"):
        plots.save_figure(fig, "bad", tmp_path)
    assert not (tmp_path / "bad.png").exists()


def _labels_in_view(ax) -> list[str]:
    lo, hi = sorted(ax.get_ylim())
    inside = [lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9) for v in ax.get_yticks()]
    return [t.get_text() for t, ok in zip(ax.get_yticklabels(), inside, strict=True) if ok]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.8, 1.8, ["0.8", "1", "1.2", "1.4", "1.6", "1.8"]),  # Figure 1's NC0: once only "1, 9e-01, 8e-01"
        (1e-5, 1.0, ["$10^{-5}$", "$10^{-4}$", "0.001", "0.01", "0.1", "1"]),
        (0.02, 0.3, ["0.02", "0.05", "0.1", "0.2"]),
        (0.0193, 0.0414, ["0.02", "0.025", "0.03", "0.035", "0.04"]),  # once 11 labels, overlapping
        (1e-12, 1e3, ["$10^{-12}$", "$10^{-9}$", "$10^{-6}$", "0.001", "1", "1000"]),  # decades thinned
    ],
)
def test_readable_log_axis_labels_the_range_the_data_reach(low, high, expected):
    fig, ax = _figure()
    ax.plot([0, 1], [low, high])
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    plots.readable_log_axes(fig)
    fig.canvas.draw()
    assert _labels_in_view(ax) == expected
    assert [t.get_text() for t in ax.get_yminorticklabels() if t.get_text()] == []
    assert check_figure(fig) == []


def test_readable_log_labels_stay_distinct_on_a_narrow_range():
    # the ViT page's NC3 axis once read "4e-01 4e-01 3e-01 3e-01 3e-01"
    fig, ax = _figure()
    ax.plot([0, 1], [0.31, 0.44])
    ax.set_yscale("log")
    plots.readable_log_axes(fig)
    fig.canvas.draw()
    labels = _labels_in_view(ax)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    values = [float(t) for t in labels]  # plain numbers, in order, inside the data's range
    assert values == sorted(values) and 0.3 <= values[0] and values[-1] <= 0.45
    assert check_figure(fig) == []


def test_readable_log_axes_keeps_ticks_set_by_hand():
    fig, ax = _figure()
    ax.plot([0, 1], [1e-3, 1])
    ax.set_yscale("log")
    ax.set_yticks([1e-3, 1], ["low", "high"])
    plots.readable_log_axes(fig)
    fig.canvas.draw()
    assert _labels_in_view(ax) == ["low", "high"]


def test_two_runs_at_a_point_are_drawn_as_themselves_and_a_band_needs_three():
    import numpy as np
    import pandas as pd
    from matplotlib.collections import PolyCollection

    # AdamW: two runs (0.2 and 0.4) at weight decay 1e-3, three runs (1, 2, 3) at 1e-2
    two, three = np.array([0.2, 0.4]), np.array([1.0, 2.0, 3.0])
    summary = pd.DataFrame({
        "optimizer": ["adamw", "adamw"], "weight_decay": [1e-3, 1e-2], "n": [2, 3],
        "NC0 mean": [two.mean(), three.mean()], "NC0 std": [two.std(ddof=1), three.std(ddof=1)],
    })  # fmt: skip
    fig, ax = _figure()
    plots.plot_against_weight_decay(ax, summary, ["adamw"], "NC0")
    dots = [c for c in ax.collections if c.get_label() == "2 runs at a point: both shown"]
    assert len(dots) == 1
    assert sorted(dots[0].get_offsets()[:, 1]) == pytest.approx([0.2, 0.4])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_paths()]
    assert len(bands) == 1
    legend = [t.get_text() for t in ax.legend().get_texts()]
    assert legend == ["AdamW", "band: \u00b11 std over \u22653 runs", "2 runs at a point: both shown"]
    xs = bands[0].get_paths()[0].vertices[:, 0]
    assert set(np.round(xs[np.isfinite(xs)], 6)) == {0.01}  # the band covers only the three-run point
    ax.legend()
    assert check_figure(fig) == []


def test_heatmap_hatches_the_cells_without_a_valid_run():
    import pandas as pd
    from matplotlib.patches import Rectangle

    # 2 momenta x 2 weight decays; the run at (momentum 0, weight decay 1e-4) trained to 90 % only
    finals = pd.DataFrame({
        "momentum": [0.0, 0.0, 0.9, 0.9], "weight_decay": [1e-4, 1e-3, 1e-4, 1e-3],
        "NC0": [0.5, 0.05, 0.2, 0.01], "train_acc": [0.90, 0.999, 0.999, 1.0],
    })  # fmt: skip
    fig, ax = _figure(width=5, height=4)
    marked = plots.heatmap_by_momentum(ax, finals, "NC0", finals["train_acc"] >= 0.99)
    assert marked == 1
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert [(p.get_x(), p.get_y()) for p in hatched] == [(0, 1)]  # row 1 = momentum 0 (largest on top)
    italic = [t.get_text() for t in ax.texts if t.get_fontstyle() == "italic"]
    assert italic == ["0.5"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.9", "0"]
    assert check_figure(fig) == []


def test_close_weight_decays_are_labelled_apart():
    # the UFM page's Figure 15 once read "0.0050.01" under its x axis
    import pandas as pd

    decays = [0.0, 0.0005, 0.005, 0.01, 0.05]
    means = [1, 0.9, 0.5, 0.3, 0.1]
    summary = pd.DataFrame({"optimizer": "adam", "weight_decay": decays, "n": 3, "NC0 mean": means})
    summary["NC0 std"] = 0.01
    fig, axes = plt.subplots(2, 2, figsize=(8, 6.6), layout="constrained", dpi=110)
    for ax in axes.flat:
        plots.plot_against_weight_decay(ax, summary, ["adam"], "NC0")
    labels = axes[0, 0].get_xticklabels()
    assert [t.get_text() for t in labels] == ["0", "0.0005", "0.005", "0.01", "0.05"]
    assert {t.get_rotation() for t in labels} == {45.0}  # 0.005 and 0.01 lie within a factor of 3
    assert check_figure(fig) == []
    spread = summary.iloc[:4].assign(weight_decay=[0.0, 1e-4, 1e-3, 1e-2])  # four, a factor of 10 apart
    fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained", dpi=110)
    plots.plot_against_weight_decay(ax, spread, ["adam"], "NC0")
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {0.0}
    assert check_figure(fig) == []


def test_a_flat_log_axis_is_widened_until_its_labels_differ(tmp_path):
    import matplotlib.pyplot as plt

    from nc_core import plots

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([1, 2, 3], [1.76527, 1.765271, 1.7652705])  # a metric that did not move at all
    ax.set_yscale("log")
    plots.save_figure(fig, "flat", tmp_path)  # raised FigureCheckError (duplicate labels) before
    lo, hi = ax.get_ylim()
    assert hi / lo >= plots.FLAT_SPAN * 0.999 and lo < 1.76527 < hi
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text() and lo <= t.get_position()[1] <= hi]
    assert len(labels) == len(set(labels)) >= 2
    plt.close(fig)
