"""The execution status page and the front page's answer are generated from what the build recorded: page
records written by ``book execute``, the check's result filled in by ``book check``, the claims' checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from nc_core.book import front, status
from nc_core.book.check import PageReport
from nc_core.claims import PAPER_CLAIMS, ClaimLog, direction, load_checks


def record(page: str, **extra) -> dict:
    return {
        "page": page,
        "profile": "smoke",
        "notebook": f"notebooks/{page}.ipynb",
        "parameters": {"profile": "smoke"},
        "started": "2026-01-02T03:04:05+00:00",
        "finished": "2026-01-02T03:06:05+00:00",
        "seconds": 120.0,
        "commit": "abc123",
        "result": "executed",
        "rerun": f"python -m nc_core book execute {page} --profile smoke",
        **extra,
    }


def test_runs_read_are_counted_once_with_their_compute(tmp_path):
    path = tmp_path / "runs.jsonl"
    old, new = "2026-01-01T00:00:00+00:00", "2026-01-02T03:05:00+00:00"
    rows = [
        {"run_id": "a", "grid": "g", "train_seconds": 50.0, "metric_seconds": 10.0, "recorded_at": old},
        {"run_id": "b", "grid": "g", "train_seconds": 5.0, "metric_seconds": None, "recorded_at": new},
        {"run_id": "a", "grid": "g", "train_seconds": 50.0, "metric_seconds": 10.0, "recorded_at": old},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runs = status.summarise_runs(path, "2026-01-02T03:04:05+00:00")
    assert runs["count"] == 2 and runs["ids"] == ["a", "b"] and runs["grids"] == {"g": 2}
    assert runs["compute_seconds"] == 65.0 and runs["trained_now"] == 1  # b was recorded while the page ran
    assert runs["source"] == "runs the page loaded"
    none = status.summarise_runs(tmp_path / "absent.jsonl", None)
    assert none["count"] == 0 and none["source"] == "none recorded"


def test_status_page_is_generated_from_the_records(tmp_path):
    runs = {"count": 6, "trained_now": 2, "compute_seconds": 150.0, "grids": {"fig5": 6}, "ids": ["r1"]}
    runs |= {"statuses": {"completed": 6}, "devices": ["CPU"], "commits": ["abc123"], "profiles": ["smoke"]}
    status.write_record(tmp_path, record("dynamics", runs=runs))
    status.write_record(tmp_path, record("theory", runs={"count": 0}, result="failed", error="ValueError: x"))
    page = status.write_status_page(tmp_path).read_text()
    assert page.startswith("# Execution status")
    assert "**Executed:** 2 of" in page and "`abc123`" in page
    row = next(line for line in page.splitlines() if line.startswith("| [dynamics]"))
    assert row.startswith(
        "| [dynamics](dynamics) | smoke | 2026-01-02 03:04, 2.0 min | 6 (2 trained now), 2.5 min compute |"
    )
    assert row.endswith('<span class="nc-check" data-page="dynamics">not checked</span> |')
    theory = next(line for line in page.splitlines() if line.startswith("| [theory]"))
    assert "(**failed**)" in theory and "| none |" in theory
    assert "| [claims](claims) | - | not executed | - |" in page  # a page without a record says so
    assert "- error: ValueError: x" in page and "- run ids: `r1`" in page


def test_status_table_names_the_code_behind_each_pages_runs(tmp_path):
    commits = ["1111aaaa2222", "1111aaaa2222+diff.0123456789ab", "3333bbbb4444", "5555cccc6666"]
    runs = {"count": 4, "trained_now": 0, "compute_seconds": 0.0, "grids": {"g": 4}, "ids": ["a", "b"]}
    runs |= {"statuses": {"completed": 4}, "devices": ["CPU"], "commits": commits, "profiles": ["cpu"]}
    status.write_record(tmp_path, record("momentum", runs=runs))
    status.write_record(tmp_path, record("theory", runs={"count": 0}))
    page = status.write_status_page(tmp_path).read_text()
    assert "| page | profile | executed (UTC), time | runs read | code of the runs | book check |" in page
    row = next(line for line in page.splitlines() if line.startswith("| [momentum]"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "`1111aaaa2222`, `1111aaaa2222+diff.0123456789ab`, `3333bbbb4444` and 1 more"
    theory = next(line for line in page.splitlines() if line.startswith("| [theory]"))
    assert [c.strip() for c in theory.strip("|").split("|")][4] == "-"
    assert "`5555cccc6666`" in page  # the full list, in the page's dropdown
    assert "git apply data/code/<hash>.diff" in page


def test_record_runs_notes_loaded_runs_only_inside_a_book_execution(tmp_path, monkeypatch):
    finals = pd.DataFrame({
        "run_id": ["a", "b"], "status": ["completed", "diverged"], "train_seconds": [10.0, None],
        "git_commit": ["abc", "abc+diff.123"], "lr": [0.1, 0.2],
    })  # fmt: skip
    monkeypatch.delenv(status.RUNS_RECORD_ENV, raising=False)
    assert status.record_runs(finals) == 0  # outside `book execute`: nothing written anywhere
    target = tmp_path / "status" / "page.runs.jsonl"
    monkeypatch.setenv(status.RUNS_RECORD_ENV, str(target))
    assert status.record_runs(finals) == 2
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert rows == [
        {"run_id": "a", "status": "completed", "train_seconds": 10.0, "git_commit": "abc"},
        {"run_id": "b", "status": "diverged", "train_seconds": None, "git_commit": "abc+diff.123"},
    ]
    summary = status.summarise_runs(target)
    assert summary["commits"] == ["abc", "abc+diff.123"] and summary["count"] == 2


def test_check_result_is_filled_into_the_built_status_page(tmp_path):
    html_root = tmp_path / "html"
    built = html_root / "book" / "generated" / "status.html"
    built.parent.mkdir(parents=True)
    cells = "".join(
        f"<tr><td>{status._placeholder(p, 'not checked')}</td></tr>" for p in ("theory", "dynamics", "x")
    )
    built.write_text(f"<p>{status._placeholder('*', 'not run')}</p><table>{cells}</table>")
    reports = [
        PageReport(html_root / "book" / "generated" / "theory.html", [], 1),
        PageReport(html_root / "book" / "generated" / "dynamics.html", ["broken image a.png"], 0),
        PageReport(html_root / "book" / "intro.html", [], 0),
    ]
    result = status.record_check(reports, html_root, tmp_path / "records")
    assert json.loads((tmp_path / "records" / "check.json").read_text())["pages"] == {
        "theory": [], "dynamics": ["broken image a.png"], "book/intro": []
    }  # fmt: skip
    assert status.apply_check(html_root, result) == built
    text = built.read_text()
    assert '<span class="nc-check nc-check-passed" data-page="theory">passed</span>' in text
    assert 'data-page="dynamics">1 problem(s): broken image a.png</span>' in text
    assert '<span class="nc-check nc-check-none" data-page="x">not checked</span>' in text
    assert "3 pages checked at " in text and "1 with problems (dynamics)" in text
    status.apply_check(html_root, status.record_check(reports[:1], html_root))  # a second check replaces it
    assert built.read_text().count("nc-check-passed") == 2 and "broken image" not in built.read_text()
    assert status.apply_check(tmp_path / "no-book", result) is None


def checks_at(folder: Path, profile: str, passed: bool) -> pd.DataFrame:
    fit = pd.DataFrame({"status": ["completed"], "train_acc": [1.0]})
    log = ClaimLog("weight_decay", profile, "resnet9_fashionmnist")  # the headline page
    log.extend([direction("AdamW above Adam", 2.0, passed, "adamw_above_adam", runs=fit),
                direction("momentum helps", 0.5, True, "momentum_accelerates_sgd", runs=fit)])  # fmt: skip
    log.save(folder / profile)
    return load_checks(folder / profile)


def test_front_page_leads_with_the_answer_figure_1_and_the_verdicts_by_profile(tmp_path):
    checks = pd.concat(
        [checks_at(tmp_path, "smoke", False), checks_at(tmp_path, "cpu", True)], ignore_index=True
    )
    matrix = front.verdicts_by_profile(checks)
    assert list(matrix.columns) == ["smoke", "cpu"]
    assert matrix.loc["adamw_above_adam"].tolist() == ["contradicted", "replicates"]
    assert (matrix.loc["ufm_adamw_no_nc"] == "not run").all()
    figure = tmp_path / "figures" / front.HEADLINE_FIGURE.format(profile="smoke")
    text = front.front_page(checks, "smoke", figure)
    assert text.startswith("**What this build's runs (profile `smoke`) say about the paper's")
    assert "* **Contradicted (1):**" in text and "* **Replicates (1):**" in text
    assert "Figure 1 (ResNet9 on FashionMNIST) was not drawn by this build" in text
    n = len(PAPER_CLAIMS)
    assert f"| `smoke` | 1 | 0 | 1 | 0 | {n - 2} | this build |" in text
    assert f"| `cpu` | 2 | 0 | 0 | 0 | {n - 2} | kept from an earlier build" in text
    assert "| `paper` | - | - | - | - | - | not built (`make book PROFILE=paper`) |" in text
    figure.parent.mkdir()
    figure.write_bytes(b"\x89PNG")
    text = front.front_page(checks, "smoke", figure)
    assert f"```{{image}} /{figure}\n" in text and "**The paper's Figure 1 at profile `smoke`**" in text
    # the caption claims no more than its claim's verdict at the build's profile (contradicted at smoke)
    assert "here AdamW's metrics do not stay above Adam's" in text and "as in the paper" not in text
    placeholder = front.ensure_front_page(tmp_path)
    assert "has not been executed" in placeholder.read_text()
    front.write_front_page(placeholder, text)
    assert front.ensure_front_page(tmp_path).read_text() == text + "\n"  # kept once the claims page wrote it


def test_a_page_without_its_data_is_reported_as_no_data_and_a_copy_is_named(tmp_path):
    status.write_record(tmp_path, record("weight_decay_vgg9_cifar10", runs={"count": 0}, data="no data"))
    status.write_record(
        tmp_path, record("weight_decay_resnet9_cifar10", runs={"count": 0}, data="CIFAR-10 (JPEG copy)")
    )
    page = status.write_status_page(tmp_path).read_text()
    missing = next(line for line in page.splitlines() if line.startswith("| [weight decay vgg9 cifar10]"))
    assert missing.endswith("| **no data** |") and "nc-check" not in missing  # never filled in as "passed"
    copy = next(line for line in page.splitlines() if line.startswith("| [weight decay resnet9 cifar10]"))
    assert "(CIFAR-10 (JPEG copy))" in copy and copy.endswith(
        'data-page="weight_decay_resnet9_cifar10">not checked</span> |'
    )


def test_page_data_names_the_original_a_copy_or_no_data(tmp_path, monkeypatch):
    from nc_core.book.chapters import get_pages, page_data
    from nc_core.data import copies

    ((_, variant),) = get_pages("weight_decay_vgg9_cifar10")
    assert page_data(None, tmp_path) == "" and page_data(variant, tmp_path) == "no data"
    monkeypatch.setattr(copies, "bound_copy", lambda name, root: "jpeg-0123456789ab")
    assert page_data(variant, tmp_path) == "CIFAR-10 (JPEG copy)"
