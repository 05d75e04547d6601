"""Every figure the book saves has its data beside it: ``save_figure`` writes ``<name>.csv`` with exactly the
numbers drawn (read back from the figure's artists), and the page links it under the figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import seaborn as sns

from nc_core import plots

X = [0.0, 1.0, 2.0, 3.0]
Y = [0.1, 1 / 3, 2.718281828459045, 1e-12]


@pytest.fixture
def figure():
    """Four panels drawn from known numbers: lines with a band, a scatter, bars, an image and a heatmap."""
    fig, axes = plt.subplots(2, 2)
    a, b, c, d = axes.flat
    a.plot(X, Y, label="Adam")
    a.plot(X, [y * 2 for y in Y], label="_hidden")  # a label matplotlib keeps out of the legend
    a.fill_between([0.0, 1.0], [0.5, 0.25], [1.5, 1.25])
    a.set(title="NC0", xlabel="weight decay", ylabel="final NC0", yscale="log")
    b.scatter([1e-3, 1e-2], [7.5, np.float32(0.125)], label="AdamW")
    c.bar(["sgd", "adam"], [3.0, 4.5], label="runs")
    d.imshow(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    yield fig
    plt.close(fig)


def test_csv_holds_exactly_the_numbers_plotted(figure, tmp_path):
    png = plots.save_figure(figure, "known", tmp_path)
    assert png == tmp_path / "known.png" and png.read_bytes().startswith(b"\x89PNG")
    df = pd.read_csv(tmp_path / "known.csv", keep_default_na=False, na_values=[""])
    assert list(df.columns[:10]) == list(plots.FIGURE_DATA_COLUMNS)
    line = df[(df["kind"] == "line") & (df["label"] == "Adam")]
    assert line["x"].tolist() == X and line["y"].tolist() == Y  # exact: floats round-trip through the CSV
    assert set(line[["panel", "title", "xlabel", "ylabel"]].itertuples(index=False)) == {
        (1, "NC0", "weight decay", "final NC0")
    }
    hidden = df[(df["kind"] == "line") & (df["series"] == 1)]
    assert hidden["label"].isna().all() and hidden["y"].tolist() == [y * 2 for y in Y]
    band = df[df["kind"] == "area"]
    assert {(1.0, 0.25), (1.0, 1.25), (0.0, 0.5), (0.0, 1.5)} <= set(zip(band["x"], band["y"], strict=True))
    scatter = df[df["kind"] == "scatter"]
    assert scatter[["x", "y"]].values.tolist() == [[1e-3, 7.5], [1e-2, 0.125]]
    assert scatter["label"].tolist() == ["AdamW", "AdamW"] and (scatter["panel"] == 2).all()
    bars = df[df["kind"] == "bar"]
    assert bars["y"].tolist() == [3.0, 4.5] and bars["x_tick"].tolist() == ["sgd", "adam"]
    assert bars["bottom"].tolist() == [0.0, 0.0]
    image = df[df["kind"] == "image"].sort_values(["row", "col"])
    assert image["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert image[["row", "col"]].values.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert not (tmp_path / "known.source.csv").exists()


def test_heatmap_cells_carry_their_value_and_categories(tmp_path):
    grid = pd.DataFrame([[0.5, 0.25], [1.5, 2.0]], index=[0.9, 0.0], columns=[0.0, 5e-4])
    fig, ax = plt.subplots()
    sns.heatmap(grid, ax=ax, annot=True)  # a colour bar too: not a panel of its own
    plots.save_figure(fig, "heat", tmp_path)
    plt.close(fig)
    df = pd.read_csv(tmp_path / "heat.csv")
    assert set(df["kind"]) == {"mesh"} and set(df["panel"]) == {1}
    got = {(str(r.y_tick), str(r.x_tick)): r.value for r in df.itertuples()}
    assert got == {("0.9", "0.0"): 0.5, ("0.9", "0.0005"): 0.25, ("0.0", "0.0"): 1.5, ("0.0", "0.0005"): 2.0}


def test_callers_table_is_written_beside_and_linked(figure, tmp_path):
    runs = pd.DataFrame({"run_id": ["a1", "b2"], "NC0": [0.5, 0.25]}, index=[3, 7])  # e.g. rows of a filter
    png = plots.save_figure(figure, "fig", tmp_path / "figures", data=runs)
    assert pd.read_csv(tmp_path / "figures" / "fig.source.csv").equals(runs.reset_index(drop=True))
    named = runs.set_index("run_id")  # a named index is part of the data
    plots.save_figure(figure, "named", tmp_path / "figures", data=named)
    assert pd.read_csv(tmp_path / "figures" / "named.source.csv", index_col="run_id").equals(named)
    link = plots.figure_data_link(png, page_folder=tmp_path).data
    assert "[fig.csv](figures/fig.csv)" in link and "[fig.source.csv](figures/fig.source.csv)" in link
    plots.save_figure(figure, "fig", tmp_path / "figures")  # saved again without: no stale table is linked
    assert not (tmp_path / "figures" / "fig.source.csv").exists()
    assert "source" not in plots.figure_data_link(png, page_folder=tmp_path).data


def test_show_figure_shows_it_with_the_link_underneath(figure, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("NC_CORE_BOOK_PAGES", str(tmp_path))
    png = plots.show_figure(figure, "shown", tmp_path / "figures")
    assert png.exists() and (tmp_path / "figures" / "shown.csv").exists()
    assert shown[0] is figure and "(figures/shown.csv)" in shown[1].data
    assert not plt.fignum_exists(figure.number)  # closed: not shown a second time at the end of the cell


def test_a_caption_is_only_a_caption_and_collect_notes_the_runs(tmp_path, monkeypatch):
    from nc_core.book import status

    finals = pd.DataFrame(
        {"run_id": ["a", "b"], "status": ["completed", "diverged"], "train_seconds": [10.0, 2.5], "grid": "g"}
    )
    record = tmp_path / "runs.jsonl"
    monkeypatch.setenv(plots.RUNS_RECORD_ENV, str(record))
    plots.provenance_caption(finals)  # inside a book build too: the caption writes nothing
    assert not record.exists()
    assert status.record_runs(finals) == 2  # the explicit call a page makes (sweep.collect makes it)
    rows = pd.read_json(record, lines=True)
    assert rows["run_id"].tolist() == ["a", "b"] and rows["train_seconds"].tolist() == [10.0, 2.5]
