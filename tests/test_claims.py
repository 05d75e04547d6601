"""The claims registry, the per-page check log and the verdicts of the claims page."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nc_core.book import CHAPTERS
from nc_core.claims import (
    GATES,
    PAPER_CLAIMS,
    ClaimLog,
    archive_checks,
    load_archived_checks,
    load_checks,
    verdict_matrix,
    verdict_tables,
    verdicts,
)


def test_registry_ids_are_unique_and_name_existing_chapters():
    ids = [c.id for c in PAPER_CLAIMS]
    assert len(ids) == len(set(ids))
    chapters = {c.name for c in CHAPTERS}
    for c in PAPER_CLAIMS:
        assert c.chapter in chapters | {""}, c.id
        if not c.chapter:  # a claim no chapter checks yet must say how it would be run
            assert "nc_core sweep run" in c.decided_by or "GPU" in c.decided_by, c.id


def test_gates_decide_which_failures_raise():
    assert GATES["all"] == ("smoke", "cpu", "gpu", "paper")
    for profile, raising in (
        ("smoke", {"all"}),
        ("cpu", {"all", "cpu+"}),
        ("paper", {"all", "cpu+", "paper"}),
    ):
        log = ClaimLog("dynamics", profile)
        for gate in GATES:
            log.check(f"{gate} check", 1.0, False, gate)
        assert set(log.failed()) == {f"{g} check" for g in raising}, profile
        with pytest.raises(AssertionError, match="failed claims"):
            log.finish(strict=True)
        log.finish(strict=False)  # not strict: never raises
    ok = ClaimLog("theory", "smoke")
    ok.check("a passing check", 1, True, "all")
    ok.finish(strict=True)
    assert ok.table()["result"].tolist() == ["PASS"]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown profile"):
        ClaimLog("theory", "huge")
    log = ClaimLog("theory", "cpu")
    with pytest.raises(ValueError, match="unknown gate"):
        log.check("x", 1, True, "sometimes")
    with pytest.raises(ValueError, match="unknown claim"):
        log.check("x", 1, True, "all", "no_such_claim")


def test_verdicts_hold_fail_and_not_run(tmp_path):
    a = ClaimLog("weight_decay", "cpu", "resnet9_fashionmnist")
    a.check("AdamW above Adam (NC0)", {"0.05": 3.2}, True, "cpu+", "adamw_above_adam")
    a.check("AdamW above Adam (NC3)", {"0.05": 1.4}, True, "cpu+", "adamw_above_adam")
    a.check("every run finished", {"completed": 52}, True)  # an internal check: no paper claim
    b = ClaimLog("weight_decay", "cpu", "vgg9_mnist")
    b.check("AdamW above Adam (NC0)", {"0.05": 2.0}, True, "cpu+", "adamw_above_adam")
    b.check("Signum: NC0 at top WD < at 0", "0.9 vs 0.8", False, "cpu+", "coupled_wd_lowers_nc")
    b.check("Adam: NC0 at top WD < at 0", "0.1 vs 0.8", True, "cpu+", "coupled_wd_lowers_nc")
    a.save(tmp_path)
    b.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "weight_decay__resnet9_fashionmnist.json", "weight_decay__vgg9_mnist.json",
    ]  # fmt: skip
    checks = load_checks(tmp_path)
    assert len(checks) == 6
    table = verdicts(checks).set_index("id")
    assert table.loc["adamw_above_adam", "verdict"] == "holds"
    assert table.loc["adamw_above_adam", "checks passed"] == "3 / 3"
    assert table.loc["coupled_wd_lowers_nc", "verdict"] == "fails"
    assert table.loc["coupled_wd_lowers_nc", "checks passed"] == "1 / 2"
    assert table.loc["coupled_wd_lowers_nc", "failed checks"] == (
        "Signum: NC0 at top WD < at 0 [weight_decay (vgg9_mnist): 0.9 vs 0.8]"
    )
    assert table.loc["thm33_signgd_decoupled", "verdict"] == "not run"
    assert table.loc["adamw_above_adam", "profile"] == "cpu"
    assert set(table["verdict"]) == {"holds", "fails", "not run"}
    assert len(table) == len(PAPER_CLAIMS)


def test_no_checks_means_every_claim_not_run(tmp_path):
    table = verdicts(load_checks(tmp_path / "nothing-here"))
    assert (table["verdict"] == "not run").all()
    assert isinstance(table, pd.DataFrame) and len(table) == len(PAPER_CLAIMS)


def test_verdict_matrix_per_scale_marks_checks_before_the_terminal_phase(tmp_path):
    log = ClaimLog("training_length", "cpu")
    short, long = "cpu, 15 epochs (1,185 steps)", "cpu, 960 epochs (75,840 steps)"
    log.check("AdamW/Adam NC0 > 10", 2.3, False, "paper", "longer_training_keeps_gap", scale=short,
              terminal=False)  # fmt: skip
    log.check(
        "AdamW/Adam NC0 > 10", 26.4, True, "paper", "longer_training_keeps_gap", scale=long, terminal=True
    )
    log.check("AdamW NC0 rises", 1.0, True, "cpu+", "dynamics_decoupled_nc0", scale=long, terminal=True)
    log.check("AdamW NC0 > Adam", 3.0, True, "cpu+", "dynamics_decoupled_nc0", scale=long, terminal=False)
    log.check("all runs finished", 24, True)  # no paper claim: not in the matrix
    other = ClaimLog("momentum", "gpu")
    other.check("momentum helps", 0.5, True, "cpu+", "momentum_accelerates_sgd")  # scale: its profile
    log.save(tmp_path)
    other.save(tmp_path)
    m = verdict_matrix(load_checks(tmp_path))
    assert list(m.columns) == [short, long, "gpu"] and len(m) == len(PAPER_CLAIMS)
    assert m.loc["longer_training_keeps_gap", short] == "fails (before the terminal phase)"
    assert m.loc["longer_training_keeps_gap", long] == "holds"
    assert m.loc["dynamics_decoupled_nc0", long] == "holds (before the terminal phase)"
    assert m.loc["momentum_accelerates_sgd", "gpu"] == "holds"
    assert m.loc["momentum_accelerates_sgd", short] == "-" and m.loc["thm33_signgd_decoupled", "gpu"] == "-"


def test_verdict_tables_cut_each_profile_to_fit_and_shorten_the_headers():
    cols = ["smoke", "smoke, 3 epochs", "smoke, 6 epochs", "smoke, UFM batch 128", "smoke, pooled", "cpu"]
    m = pd.DataFrame("-", index=["a", "b"], columns=cols, dtype=object)
    m.loc["a", "smoke, 6 epochs"] = "fails (before the terminal phase)"
    m.loc["b", "cpu"] = "holds"
    tables = verdict_tables(m, max_columns=4)
    assert [c for c, _ in tables] == [
        "Verdict of each claim at profile smoke (part 1/2)",
        "Verdict of each claim at profile smoke (part 2/2)",
        "Verdict of each claim at profile cpu",
    ]
    first, second, cpu = (t for _, t in tables)
    assert list(first.columns) == ["all pages", "3 epochs", "6 epochs", "UFM batch 128"]
    assert list(second.columns) == ["pooled"] and list(cpu.columns) == ["all pages"]
    assert first.loc["a", "6 epochs"] == "fails †" and cpu.loc["b", "all pages"] == "holds"
    assert sum(t.shape[1] for _, t in tables) == len(cols)  # every scale shown once
    with pytest.raises(ValueError, match="max_columns"):
        verdict_tables(m, max_columns=0)


def test_archive_keeps_a_profiles_checks_and_old_files_read(tmp_path):
    build = tmp_path / "build"
    log = ClaimLog("momentum", "cpu")
    log.check("momentum helps", 0.5, True, "cpu+", "momentum_accelerates_sgd")
    log.save(build)
    archive = tmp_path / "archive"
    archive_checks(build, "cpu", archive)
    stale = archive / "cpu" / "gone.json"
    stale.write_text("[]")
    archive_checks(build, "cpu", archive)  # replaces the profile's folder: no stale pages survive
    assert not stale.exists()
    assert len(load_archived_checks(archive)) == 1 and load_archived_checks(archive, exclude="cpu").empty
    with pytest.raises(ValueError, match="not 'smoke'"):
        archive_checks(build, "smoke", archive)
    # a check file written before scale/terminal existed reads with its profile as scale
    old = tmp_path / "old"
    old.mkdir()
    row = {"chapter": "theory", "variant": "", "profile": "cpu", "check": "x", "value": "1", "gate": "all",
           "passed": True, "gated": True, "paper_claim": "thm33_signgd_decoupled"}  # fmt: skip
    (old / "theory.json").write_text(json.dumps([row]))
    checks = load_checks(old)
    assert checks.loc[0, "scale"] == "cpu" and checks.loc[0, "terminal"] is None
    assert verdict_matrix(checks).loc["thm33_signgd_decoupled", "cpu"] == "holds"
