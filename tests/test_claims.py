"""The claims registry, the check kinds, the verdict categories and the claims page's tables."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from nc_core.book import CHAPTERS
from nc_core.claims import (
    PAPER_CLAIMS,
    VERDICTS,
    ClaimLog,
    above,
    archive_checks,
    below,
    claim_verdict,
    direction,
    integrity,
    load_archived_checks,
    load_checks,
    magnitude,
    precondition,
    verdict_matrix,
    verdict_tables,
    verdicts,
)
from nc_core.profiles import terminal_phase, valid_mask

CLAIM = "adamw_above_adam"


def runs(*accs: float, status: str = "completed") -> pd.DataFrame:
    """Final records at the given training accuracies."""
    return pd.DataFrame({"status": status, "train_acc": list(accs)})


FIT, UNFIT = runs(0.995, 1.0), runs(0.995, 0.46)


def verdict_of(*checks) -> tuple[str, str]:
    log = ClaimLog("weight_decay", "cpu")
    log.extend(checks)
    return claim_verdict(log.table())


def test_registry_ids_are_unique_and_name_existing_chapters():
    ids = [c.id for c in PAPER_CLAIMS]
    assert len(ids) == len(set(ids))
    chapters = {c.name for c in CHAPTERS}
    for c in PAPER_CLAIMS:
        assert c.chapter in chapters | {""}, c.id


def test_the_tolerance_for_above_and_below():
    assert not above(1.0015) and not above(1.1) and above(1.1001) and not above(math.nan)
    assert below(0.9) and not below(1 / 1.1 + 1e-9) and not below(0.9999)


def test_validity_and_terminal_phase_have_one_rule():
    f = pd.DataFrame(
        {
            "status": ["completed", "completed", "diverged", "completed"],
            "train_acc": [0.99, 0.989, 1.0, 1.0],
            "NC3_code": [1.0, 1.0, 1.0, math.nan],
        }
    )
    assert valid_mask(f, "cpu").tolist() == [True, False, False, True]
    assert valid_mask(f, "cpu", ["NC3_code"]).tolist() == [True, False, False, False]
    assert valid_mask(f, "smoke").tolist() == [True, True, False, True]  # smoke: every completed run
    assert valid_mask(f, "cpu", figure="fig15_ufm").tolist() == [False, False, False, True]
    assert terminal_phase(FIT) is True and terminal_phase(UNFIT) is False
    assert terminal_phase(runs()) is False and terminal_phase(None) is None
    assert terminal_phase(runs(1.0, status="diverged")) is False


def test_each_verdict_category_worked_by_hand():
    d_ok = direction("AdamW above Adam", 2.0, True, CLAIM, runs=FIT)
    m_ok = magnitude("ratio >= 10", 12.0, 10.0, CLAIM, runs=FIT)
    m_short = magnitude("ratio >= 10", 1.35, 10.0, CLAIM, runs=FIT)
    assert m_short.shortfall == pytest.approx(0.135) and "14% of it" in m_short.value
    assert verdict_of(d_ok, m_ok)[0] == "replicates"
    verdict, why = verdict_of(d_ok, m_short)
    assert verdict == "weaker at this scale" and "1.35 against 10 required (14% of it)" in why
    d_bad = direction("NC4 uncorrelated", "rho -0.8", False, CLAIM, runs=FIT)
    assert verdict_of(d_ok, m_short, d_bad)[0] == "contradicted"
    pre = precondition("the decay acted", "B 0.0009", False, CLAIM, runs=FIT)
    verdict, why = verdict_of(d_ok, m_ok, pre)
    assert verdict == "not testable here" and "the decay acted (B 0.0009)" in why
    assert verdict_of()[0] == "not run"


def test_checks_below_the_validity_rule_never_decide_a_claim():
    # a passing check on a run at 46% training accuracy cannot make the claim replicate ...
    passing = direction("gap kept at 960 epochs", 74.5, True, CLAIM, runs=UNFIT)
    assert passing.terminal is False
    verdict, why = verdict_of(passing)
    assert verdict == "not testable here" and "below 99%" in why
    # ... nor can a failing one contradict it; the valid checks decide
    failing = direction("ratio > 1.1", 0.5, False, CLAIM, runs=UNFIT)
    assert verdict_of(failing, direction("ratio > 1.1", 2.0, True, CLAIM, runs=FIT))[0] == "replicates"


def test_integrity_checks_with_a_claim_decide_it_and_stop_a_strict_page():
    log = ClaimLog("theory", "cpu")
    log.extend(
        [
            integrity("Thm 3.3: closed form", 1e-15, True, "thm33_signgd_decoupled"),
            integrity("every run finished", {}, False),
        ]
    )
    table = verdicts(log.table()).set_index("id")
    assert table.loc["thm33_signgd_decoupled", "verdict"] == "replicates"
    assert log.failed() == ["every run finished"]
    with pytest.raises(AssertionError, match="every run finished"):
        log.finish(strict=True)
    log.finish(strict=False)
    d = ClaimLog("weight_decay", "cpu")
    d.extend([direction("x", 1, False, CLAIM, runs=FIT)])
    d.finish(strict=True)  # a contradicted claim is a finding, not an error of the code


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown kind"):
        from nc_core.claims import Check

        Check("x", "1", True, "gate")
    with pytest.raises(ValueError, match="unknown claim"):
        direction("x", 1, True, "no_such_claim")
    with pytest.raises(ValueError, match="unknown profile"):
        ClaimLog("x", "laptop")
    with pytest.raises(TypeError, match="Check"):
        ClaimLog("x", "cpu").extend([{"check": "x"}])


def test_a_profile_verdict_is_the_most_severe_over_its_scales():
    log = ClaimLog("training_length", "cpu")
    log.extend(
        [
            direction("ratio > 1.1", 2.0, True, CLAIM, runs=FIT, scale="cpu, 60 epochs"),
            magnitude("ratio >= 10", 15.0, 10.0, CLAIM, runs=FIT, scale="cpu, 960 epochs"),
            magnitude("ratio >= 10", 3.0, 10.0, CLAIM, runs=FIT, scale="cpu, 15 epochs"),
            direction("ratio > 1.1", 9.0, True, CLAIM, runs=UNFIT, scale="cpu, 240 epochs"),
        ]
    )
    checks = log.table()
    verdict, why = claim_verdict(checks)
    assert verdict == "weaker at this scale" and why.startswith("[cpu, 15 epochs]")
    m = verdict_matrix(checks)
    assert m.loc[CLAIM].tolist() == ["replicates", "replicates", "weaker at this scale", "not testable here"]
    assert m.loc["ufm_adamw_no_nc"].tolist() == ["-"] * 4
    row = verdicts(checks).set_index("id").loc[CLAIM]
    assert row["checks passed"] == "3 / 4 (1 before the terminal phase)"
    assert set(verdicts(checks)["verdict"]) <= set(VERDICTS)


def test_verdict_tables_cut_each_profile_to_fit_and_shorten_the_headers():
    cols = ["smoke", "smoke, 3 epochs", "smoke, 6 epochs", "smoke, UFM batch 128", "smoke, pooled", "cpu"]
    m = pd.DataFrame("-", index=["a", "b"], columns=cols, dtype=object)
    m.loc["b", "cpu"] = "replicates"
    tables = verdict_tables(m, max_columns=4)
    assert [c for c, _ in tables] == [
        "Verdict of each claim at profile smoke (part 1/2)",
        "Verdict of each claim at profile smoke (part 2/2)",
        "Verdict of each claim at profile cpu",
    ]
    first, second, cpu = (t for _, t in tables)
    assert list(first.columns) == ["all pages", "3 epochs", "6 epochs", "UFM batch 128"]
    assert list(second.columns) == ["pooled"] and cpu.loc["b", "all pages"] == "replicates"
    with pytest.raises(ValueError, match="max_columns"):
        verdict_tables(m, max_columns=0)


def test_archive_keeps_a_profiles_checks_and_old_files_read(tmp_path):
    build = tmp_path / "build"
    log = ClaimLog("momentum", "cpu")
    log.extend([direction("momentum helps", 0.5, True, "momentum_accelerates_sgd", runs=FIT)])
    log.save(build)
    archive = tmp_path / "archive"
    archive_checks(build, "cpu", archive)
    stale = archive / "cpu" / "gone.json"
    stale.write_text("[]")
    archive_checks(build, "cpu", archive)  # replaces the profile's folder: no stale pages survive
    assert not stale.exists()
    back = load_archived_checks(archive)
    assert len(back) == 1 and back.loc[0, "kind"] == "direction" and back.loc[0, "terminal"] is True
    assert load_archived_checks(archive, exclude="cpu").empty
    with pytest.raises(ValueError, match="not 'smoke'"):
        archive_checks(build, "smoke", archive)
    # a check file written before kinds existed: its gate gives the kind, its profile the scale
    old = tmp_path / "old"
    old.mkdir()
    rows = [
        {
            "chapter": "theory",
            "variant": "",
            "profile": "cpu",
            "check": "x",
            "value": "1",
            "gate": g,
            "passed": p,
            "gated": True,
            "paper_claim": c,
        }
        for g, p, c in (
            ("all", True, "thm33_signgd_decoupled"),
            ("paper", False, "adamw_above_adam"),
            ("cpu+", True, "adamw_above_adam"),
            ("all", True, ""),
        )
    ]
    (old / "theory.json").write_text(json.dumps(rows))
    checks = load_checks(old)
    assert checks["kind"].tolist() == ["direction", "magnitude", "direction", "integrity"]
    assert checks.loc[0, "scale"] == "cpu" and checks.loc[0, "terminal"] is None
    assert verdict_matrix(checks).loc["adamw_above_adam", "cpu"] == "weaker at this scale"
