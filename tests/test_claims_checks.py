"""The chapter checks (nc_core.claims_checks) on small hand-made run frames whose verdicts are worked out by
hand,
and the rule that one finding has one answer on its page (the Lion case)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nc_core.analysis import seed_ratios
from nc_core.analysis.beyond import findings, nc0_verdicts, pick_lr
from nc_core.book import front
from nc_core.claims import FINDINGS, ClaimLog, claim_verdict, verdicts
from nc_core.claims_checks.beyond import beyond_checks, probe_checks
from nc_core.claims_checks.common import ACTED_BUDGET, budgets
from nc_core.claims_checks.interpolation import interpolation_checks
from nc_core.claims_checks.momentum import momentum_checks
from nc_core.claims_checks.training_length import training_length_checks
from nc_core.claims_checks.vit import vit_checks
from nc_core.claims_checks.weight_decay import headline_checks, weight_decay_checks
from nc_core.sweep import summarise_by

CPU = {
    "dataset": "fashionmnist",
    "subset_per_class": 250,
    "batch_size": 32,
    "epochs": 60,
    "lr_schedule": "step",
}


def verdict(checks, claim: str) -> str:
    log = ClaimLog("page", "cpu")
    log.extend(checks)
    t = log.table()
    return claim_verdict(t[t["paper_claim"] == claim])[0]


def test_budget_of_the_cpu_profile_and_the_acted_threshold():
    # 60 epochs x 79 steps (2,500 images / 32): 20 epochs at LR, 20 at LR/10, 20 at LR/100
    # -> B = 0.05 * 0.001 * 79 * 22.2 = 0.08769 (the README's 0.088 for the cpu profile)
    r = pd.DataFrame([{**CPU, "lr": 0.001, "weight_decay": 0.05}])
    assert abs(budgets(r).iloc[0] - 0.08769) < 1e-12
    assert ACTED_BUDGET == -np.log(0.9)


def wd_runs(ratio_at: dict[float, float], adam_nc0: float = 1.0, acc: float = 1.0) -> pd.DataFrame:
    """Adam and AdamW at LR 0.01 (budget 17.5 x weight decay): Adam's NC0 = adam_nc0 / (1 + wd),
    AdamW's = Adam's x ratio_at[wd]; NC3 = NC0; SGD/SGDW/Signum/SignumW alike with ratio 1."""
    rows = []
    for wd, ratio in ratio_at.items():
        for opt, r in (
            ("adam", 1.0),
            ("adamw", ratio),
            ("sgd", 1.0),
            ("sgdw", 1.0),
            ("signum", 1.0),
            ("signumw", ratio),
        ):
            for seed, jitter in ((0, 1.0), (1, 1.02)):
                nc0 = adam_nc0 / (1 + 100 * wd) * r * jitter
                rows.append(
                    {
                        **CPU,
                        "run_id": f"{opt}-{wd}-{seed}",
                        "optimizer": opt,
                        "lr": 0.01,
                        "momentum": 0.9,
                        "weight_decay": wd,
                        "status": "completed",
                        "train_acc": acc,
                        "NC0_code": nc0,
                        "NC3_code": nc0,
                        "NC1": 1 / nc0,
                        "NC2_code": nc0,
                        "NC4": 0.99 - 0.001 * seed,
                    }
                )
    return pd.DataFrame(rows)


def test_weight_decay_checks_replicates_weaker_and_contradicted():
    # wd 5e-4: budget 0.0088, the decay did not act: its ratio 1.0015 is left out of "at every"
    weaker = wd_runs({0.0: 1.0, 5e-4: 1.0015, 0.05: 2.0, 0.5: 3.0})
    checks = weight_decay_checks(weaker, len(weaker), "cpu")
    # direction holds where the decay acted, lowest NC0 ratio: AdamW lowest 1/51 * 2 ... < 10x -> weaker
    assert verdict(checks, "adamw_above_adam") == "weaker at this scale"
    assert verdict(checks, "coupled_wd_lowers_nc") == "replicates"
    assert verdict(checks, "sgd_gap_smaller") == "replicates"  # SGDW/SGD 1 against AdamW/Adam > 1.1
    strong = wd_runs({0.0: 1.0, 0.05: 200.0, 0.5: 3000.0})
    assert verdict(weight_decay_checks(strong, len(strong), "cpu"), "adamw_above_adam") == "replicates"
    # 1.0015 where the decay acted is no effect: contradicted
    flat = wd_runs({0.0: 1.0, 0.05: 1.0015, 0.5: 3.0})
    assert verdict(weight_decay_checks(flat, len(flat), "cpu"), "adamw_above_adam") == "contradicted"
    # every run below 99%: nothing is valid, so nothing can be decided
    unfit = wd_runs({0.0: 1.0, 0.05: 2.0, 0.5: 3.0}, acc=0.9)
    assert verdict(weight_decay_checks(unfit, len(unfit), "cpu"), "adamw_above_adam") == "not testable here"


def test_weight_decay_checks_precondition_when_the_decay_did_not_act():
    low = wd_runs({0.0: 1.0, 5e-4: 5.0})  # budget 17.5 x 5e-4 = 0.0088 < 0.105
    checks = weight_decay_checks(low, len(low), "cpu")
    assert verdict(checks, "adamw_above_adam") == "not testable here"


def fig4(ratio: float) -> pd.DataFrame:
    rows = []
    for m in (0.0, 0.9):
        for wd in (0.0, 5e-4, 5e-3):
            nc = 1.0 / (1 + 100 * wd) * (ratio if m else 1.0)
            rows.append(
                {
                    "run_id": f"{m}-{wd}",
                    "momentum": m,
                    "weight_decay": wd,
                    "status": "completed",
                    "train_acc": 1.0,
                    "NC0_code": nc,
                    "NC3_code": nc,
                }
            )
    return pd.DataFrame(rows)


def test_momentum_checks_with_the_tolerance():
    assert verdict(momentum_checks(fig4(0.5), 6), "momentum_accelerates_sgd") == "replicates"
    assert (
        verdict(momentum_checks(fig4(0.95), 6), "momentum_accelerates_sgd") == "contradicted"
    )  # 5%: no effect
    assert verdict(momentum_checks(fig4(0.5), 6), "coupled_wd_lowers_nc") == "replicates"


def test_interpolation_is_not_testable_where_the_decoupled_part_did_not_act():
    rng = np.random.default_rng(0)
    rows = [
        {
            "coupled_weight_decay": s,
            "weight_decay": 5e-4,
            "status": "completed",
            "train_acc": 1.0,
            "NC0_code": 10 - s * 1e4 + rng.normal(0, 0.01),
            "NC1": 1.0 + rng.normal(0, 0.01),
            "NC2_code": 10 - s * 1e4,
            "NC3_code": 10 - s * 1e4,
            "test_acc": 0.9 + rng.normal(0, 0.001),
        }
        for s in (0.0, 1e-4, 5e-4)
        for _ in range(3)
    ]
    finals = pd.DataFrame(rows)
    small = np.full(4740, 1e-3)  # B = 5e-4 * 4.74 = 0.0024
    checks = interpolation_checks(finals, small, 0, "cpu, 60 epochs")
    assert verdict(checks, "coupled_share_restores_nc") == "not testable here"
    assert verdict(checks, "coupled_share_accuracy") == "not testable here"
    large = np.full(4740, 1.0)  # B = 2.37: acted; every metric falls smoothly, accuracy flat
    checks = interpolation_checks(finals, large, 0, "cpu, 60 epochs")
    assert verdict(checks, "coupled_share_restores_nc") == "replicates"
    assert verdict(checks, "coupled_share_accuracy") == "replicates"


def length_runs(acc960: float) -> pd.DataFrame:
    rows = []
    for epochs, adamw, acc in ((60, 15.0, 1.0), (240, 20.0, 1.0), (960, 74.5, acc960)):
        for opt, nc0, a in (("adam", 1.0, 1.0), ("adamw", adamw, acc)):
            rows.append(
                {
                    **CPU,
                    "run_id": f"{opt}{epochs}",
                    "optimizer": opt,
                    "epochs": epochs,
                    "lr": 0.005,
                    "weight_decay": 5.0,
                    "status": "completed",
                    "train_acc": a,
                    "NC0_code": nc0,
                }
            )
    return pd.DataFrame(rows)


def test_training_length_decides_the_gap_on_terminal_horizons_only():
    # AdamW at 46% at 960 epochs: the gap is read from 60 to 240 epochs (15 -> 20: kept)
    checks = training_length_checks(length_runs(0.46), {}, "cpu")
    gap = [c for c in checks if c.claim == "longer_training_keeps_gap" and "does not shrink" in c.text]
    assert len(gap) == 1 and gap[0].value == "15 -> 20" and gap[0].terminal is True
    per = {c.scale: c.terminal for c in checks if c.claim == "dynamics_decoupled_nc0"}
    assert per["cpu, 960 epochs (75,840 steps)"] is False and per["cpu, 60 epochs (4,740 steps)"] is True
    # only one valid horizon: not testable
    two = length_runs(0.46)
    two = two[two["epochs"] != 240]
    assert verdict(training_length_checks(two, {}, "cpu"), "longer_training_keeps_gap") == "not testable here"


def test_vit_substitute_is_not_testable_and_cifar_decides():
    rows = [
        {
            "optimizer": "sgd",
            "weight_decay": wd,
            "status": "completed",
            "train_acc": 1.0,
            "NC0_code": nc,
            "NC3_code": nc,
            "run_id": str(wd),
        }
        for wd, nc in ((0.0, 3.0), (5e-4, 2.0), (5e-3, 1.0))
    ]
    valid = pd.DataFrame(rows)
    assert verdict(vit_checks(valid, True, "cpu, substitute"), "vit_sgd_wd_lowers_nc") == "not testable here"
    assert verdict(vit_checks(valid, False, "cpu, CIFAR-10"), "vit_sgd_wd_lowers_nc") == "replicates"
    copy = vit_checks(valid, False, "cpu, CIFAR-10 (JPEG copy)", "CIFAR-10 (JPEG copy)", missing=10)
    assert verdict(copy, "vit_sgd_wd_lowers_nc") == "not testable here"  # 10 runs still to come
    assert verdict(vit_checks(valid.assign(train_acc=0.68), False, "cpu"), "vit_sgd_wd_lowers_nc") == (
        "not testable here"
    )


def lion_summary() -> pd.DataFrame:
    """Lion's NC0 falls 19.2x with decay (against its prediction), Lion (coupled) falls 100x, and Lion stays
    above Lion (coupled): the beyond page's case."""
    rows = []
    for opt, by_wd in (
        ("lion", {0.0: 19.2, 0.1: 1.0, 1.0: 2.0}),
        ("lion_coupled", {0.0: 19.2, 0.1: 0.5, 1.0: 0.192}),
        ("adamw_schedulefree", {0.0: 2.0, 0.1: 3.0}),
        ("sgd_schedulefree", {0.0: 2.0, 0.1: 0.1}),
        ("muon", {0.0: 1.0, 0.1: 0.9}),
        ("muon_all", {0.0: 1.0, 0.1: 0.5}),
    ):
        for wd, nc0 in by_wd.items():
            rows.append(
                {
                    "optimizer": opt,
                    "weight_decay": wd,
                    "NC0_code": nc0,
                    "NC3_code": nc0,
                    "status": "completed",
                    "train_acc": 1.0,
                    "run_id": f"{opt}{wd}",
                }
            )
    return pd.DataFrame(rows)


def test_one_answer_per_finding_on_the_beyond_page():
    valid = lion_summary()
    summary = summarise_by(valid, ["optimizer", "weight_decay"], ["NC0_code"])
    table = nc0_verdicts(summary)  # the page's prediction table
    log = ClaimLog("beyond", "cpu")
    log.extend(beyond_checks(summary, valid, {}, "cpu"))
    claims = verdicts(log.table(), FINDINGS).set_index("id")["verdict"]
    assert not table.loc["lion", "agrees"]  # measured: falls (19.2 >= 10); predicted: stays up
    assert claims["finding_lion"] == "contradicted"
    # the rule, for every finding: it replicates exactly when every prediction row of its optimizers agrees
    # and (for a pair) the decoupled member stays above
    f = findings(summary)
    for fid, rows in f.groupby("finding"):
        mine = [o for o in rows["optimizer"] if o]
        agree = all(bool(table.loc[o, "agrees"]) for o in mine)
        assert (claims[fid] == "replicates") == (agree and rows["passed"].all()), fid
    assert claims["finding_schedulefree"] == "replicates" and claims["finding_muon"] == "replicates"


def test_front_page_summary_and_caption_follow_the_verdicts():
    log = ClaimLog("weight_decay", "cpu")
    log.extend(weight_decay_checks(wd_runs({0.0: 1.0, 0.05: 2.0, 0.5: 3.0}), 48, "cpu"))
    text = front.front_page(log.table(), "cpu", None)
    assert "**Weaker at this scale" in text and "1.74" in text and "0.088" in text
    assert "*AdamW's NC0 and NC3 stay far above Adam's at every weight decay*" in text
    assert "weaker at this scale" in front.headline_caption("weaker at this scale")
    assert "far above; here AdamW's metrics do not" in front.headline_caption("contradicted")


def test_headline_checks_decide_on_the_stored_seeds_at_their_scale():
    # wd_runs has two seeds per point (jitter 1.02 on seed 1); a campaign with 2 of 3 seeds stored
    runs = wd_runs({0.0: 1.0, 0.05: 2.0, 0.5: 3.0}).assign(seed=lambda d: d["run_id"].str[-1].astype(int))
    scale = "cpu, 240 epochs (18,960 steps), 2 of 3 seeds"
    checks = headline_checks(runs, planned=len(runs) * 3 // 2, profile="cpu", scale=scale)
    assert {c.scale for c in checks if c.claim} == {scale}
    assert checks[0].kind == "integrity" and checks[0].passed  # a partial campaign is not a failed one
    # AdamW/Adam 2 and 3 where the decay acted (direction holds); lowest means AdamW 3/51, Adam 1/51: 3x < 10x
    assert verdict(checks, "adamw_above_adam") == "weaker at this scale"
    assert verdict(checks, "sgd_gap_smaller") == "replicates"
    failed = runs.copy()
    failed.loc[0, "status"] = "failed"
    assert not headline_checks(failed, len(runs), "cpu", scale)[0].passed


def test_seed_ratios_by_hand():
    rows = [
        ("adam", 0.05, 0, 1.0, True), ("adamw", 0.05, 0, 4.0, True),
        ("adam", 0.05, 1, 2.0, True), ("adamw", 0.05, 1, 2.0, True),
        ("adam", 0.05, 2, 1.0, True), ("adamw", 0.05, 2, 9.0, False),  # AdamW seed 2 below the rule
        ("adam", 0.0, 0, 1.0, True),  # no decay: no ratio
    ]  # fmt: skip
    runs = pd.DataFrame(rows, columns=["optimizer", "weight_decay", "seed", "NC0_code", "valid"])
    r = seed_ratios(runs).set_index("pair").loc["AdamW / Adam"]
    assert r["weight_decay"] == 0.05 and r["n_dec"] == 2 and r["n_cou"] == 3 and r["n_seeds"] == 2
    assert r["ratio"] == (4.0 + 2.0) / 2 / ((1.0 + 2.0 + 1.0) / 3)
    assert np.isclose(r["seed_gmean"], np.sqrt(4.0 * 1.0)) and r["seed_min"] == 1.0 and r["seed_max"] == 4.0
    assert np.isclose(r["seed_sd_log10"], np.std([np.log10(4.0), 0.0], ddof=1))
    assert r["seeds"] in ("4 / 1", "1 / 4")  # per-seed ratios as a reader reads them
    # a campaign with only the no-decay runs so far: no ratio yet, but the columns a page reads
    assert seed_ratios(runs[runs["weight_decay"] == 0.0]).columns.tolist()[:2] == ["pair", "weight_decay"]


def test_front_page_leads_with_the_headline_campaign_at_its_own_scale(tmp_path):
    runs = wd_runs({0.0: 1.0, 0.05: 2.0, 0.5: 3.0}).assign(seed=lambda d: d["run_id"].str[-1].astype(int))
    log = ClaimLog("weight_decay", "cpu", "resnet9_fashionmnist")
    log.extend(weight_decay_checks(runs, len(runs), "cpu"))  # at the profile's scale
    scale = "cpu, 240 epochs (18,960 steps), seeds 0, 1 (48 of 72 runs)"
    log.extend(headline_checks(runs.assign(NC0_code=runs["NC0_code"] * 0 + 1.0), 72, "cpu", scale))  # flat
    # another page at its own scale (a copy of CIFAR-10), written after the headline page: not the headline
    copy = ClaimLog("weight_decay", "cpu", "resnet9_cifar10_jpeg-copy", scale="cpu, CIFAR-10 (JPEG copy)")
    copy.extend(weight_decay_checks(runs, len(runs), "cpu"))
    both = pd.concat([log.table(), copy.table()], ignore_index=True)
    assert front.headline_scale_verdict(both, "cpu") == (scale, "contradicted")
    png = tmp_path / "h.png"
    png.write_bytes(b"png")
    text = front.front_page(both, "cpu", None, png)
    assert f"Figures 1 and 3 at {scale}" in text and "CIFAR" not in text.split("Figures 1 and 3 at")[1][:300]
    assert "at cpu, 240 epochs (18,960 steps) AdamW's metrics do not stay above Adam's" in text
    assert "Figures 1 and 3 at" not in front.front_page(both, "cpu", None, tmp_path / "absent.png")
    # Figure 1 at the profile's horizon is captioned by the verdict at that scale, not by the 4x campaign's
    fig1 = tmp_path / "f1.png"
    fig1.write_bytes(b"png")
    at_profile = verdict([c for c in weight_decay_checks(runs, len(runs), "cpu")], "adamw_above_adam")
    assert at_profile != "contradicted"
    assert front.headline_caption(at_profile) in front.front_page(both, "cpu", fig1, png)


def test_a_page_on_a_campaign_in_progress_decides_nothing_and_a_copy_has_its_own_scale():
    runs = wd_runs({0.0: 1.0, 0.05: 2.0, 0.5: 30.0})
    log = ClaimLog("weight_decay", "cpu", "resnet9_cifar10_jpeg-copy", scale="cpu, CIFAR-10 (JPEG copy)")
    log.extend(weight_decay_checks(runs, len(runs) + 5, "cpu", partial=True))  # 5 runs still to come
    t = log.table()
    assert set(t["scale"]) == {"cpu, CIFAR-10 (JPEG copy)"}
    assert claim_verdict(t[t["paper_claim"] == "adamw_above_adam"])[0] == "not testable here"
    assert claim_verdict(t[t["paper_claim"] == "coupled_wd_lowers_nc"])[0] == "not testable here"
    complete = weight_decay_checks(runs, len(runs), "cpu", partial=True)  # the campaign finished: decided
    assert verdict(complete, "coupled_wd_lowers_nc") == "replicates"


def test_probe_check_is_decided_only_at_the_profile_whose_probe_set_the_lrs():
    # lion fits at 1e-3 and 3e-3, not at 1e-2 (70%): pick 3e-3, below it 1e-3
    probe = pd.DataFrame(
        {
            "optimizer": ["lion"] * 3,
            "lr": [1e-3, 3e-3, 1e-2],
            "status": ["completed"] * 3,
            "train_acc": [0.99, 0.995, 0.70],
        }
    )
    picks = pick_lr(probe, 0.98)
    (ok,) = probe_checks(picks, {"lion": [3e-3, 1e-3]}, "cpu", "cpu")
    (bad,) = probe_checks(picks, {"lion": [1e-2, 3e-3]}, "cpu", "cpu")
    assert ok.kind == "integrity" and ok.passed and not bad.passed
    # at smoke the probe picks its own LRs while the grid keeps the cpu ones: no error, no check
    assert probe_checks(picks, {"lion": [1e-2, 3e-3]}, "smoke", "cpu") == []
    log = ClaimLog("beyond", "smoke")
    log.extend(probe_checks(picks, {"lion": [1e-2, 3e-3]}, "smoke", "cpu"))
    log.finish(strict=True)  # does not raise


def test_sgd_rows_decide_coupled_decay_only_where_its_decay_acted():
    # LR 0.01, momentum 0.9 at the cpu profile: sum eta = 0.01 x 1,580 x (1 + 0.1 + 0.01) = 17.538, so
    # B / (1 - 0.9) = 175.38 x wd: 0.0877 at 5e-4
    # (below -ln 0.9 = 0.105, the decay did not act), 8.75 at 0.05
    runs = wd_runs({0.0: 1.0, 5e-4: 1.0, 0.05: 1.0})
    sgd = runs["optimizer"] == "sgd"
    runs.loc[sgd, "NC0_code"] = runs.loc[sgd, "NC3_code"] = 1.0  # SGD's NC does not fall at all
    failing = runs.copy()
    failing.loc[sgd & (failing["weight_decay"] == 0.05), "train_acc"] = 0.5  # SGD valid only up to 5e-4
    checks = weight_decay_checks(failing, len(failing), "cpu")
    gate = [c for c in checks if c.text.startswith("SGD's coupled decay acted")]
    assert len(gate) == 1 and not gate[0].passed and gate[0].claim == "" and "0.0877" in gate[0].value
    assert not any(c.text.startswith("SGD: mean") for c in checks)
    assert verdict(checks, "coupled_wd_lowers_nc") == "replicates"  # Adam's and Signum's fall 6x at 0.05
    # where SGD's decay acted (0.05 valid) and its NC still does not fall, the claim is contradicted
    checks = weight_decay_checks(runs, len(runs), "cpu")
    assert [c.passed for c in checks if c.text.startswith("SGD's coupled decay acted")] == []
    assert verdict(checks, "coupled_wd_lowers_nc") == "contradicted"


def test_signum_rows_decide_coupled_decay_only_where_theorem_3_4s_first_switch_falls_in_the_run():
    # Signum at LR 0.001 at the cpu profile: sum eta = 0.001 x 1,580 x 1.11 = 1.7538. Eq. 22's first
    # condition with the exact factors, K = 10: phi = 1 / (3 (exp(2 x 1.7538 / 3) + 9)) = 1 / (3 x 12.2195)
    # = 0.02728 against lambda x 1.7538: 0.000877 at 5e-4 (no switch: the decay never touched the sign),
    # 0.0877 at 0.05 (switched)
    runs = wd_runs({0.0: 1.0, 5e-4: 1.0, 0.05: 1.0})
    signum = runs["optimizer"] == "signum"
    runs.loc[signum, "lr"] = 0.001
    runs.loc[signum, "NC0_code"] = runs.loc[signum, "NC3_code"] = 1.0  # Signum's NC does not fall
    failing = runs.copy()
    failing.loc[signum & (failing["weight_decay"] == 0.05), "train_acc"] = 0.5  # valid only up to 5e-4
    checks = weight_decay_checks(failing, len(failing), "cpu")
    gate = [c for c in checks if c.text.startswith("Signum's coupled decay acted")]
    assert len(gate) == 1 and not gate[0].passed and gate[0].claim == ""
    assert gate[0].value == "sum of LRs 1.75: no switch"
    assert not any(c.text.startswith("Signum: mean") for c in checks)
    assert verdict(checks, "coupled_wd_lowers_nc") == "replicates"  # Adam's and SGD's fall 6x at 0.05
    # at 0.05 the switch falls in the run, so Signum's flat NC contradicts the claim
    checks = weight_decay_checks(runs, len(runs), "cpu")
    assert not [c for c in checks if c.text.startswith("Signum's coupled decay acted")]
    assert verdict(checks, "coupled_wd_lowers_nc") == "contradicted"


def test_sgd_gap_is_decided_only_where_both_decoupled_decays_acted():
    # only weight decay 5e-4 shared: B = 17.538 x 5e-4 = 0.0088 < 0.105 for SGDW and AdamW alike, so the
    # gap AdamW/Adam 3 against SGDW/SGD 1 is not evidence: not testable
    checks = weight_decay_checks(wd_runs({0.0: 1.0, 5e-4: 3.0}), 24, "cpu")
    gate = [c for c in checks if c.claim == "sgd_gap_smaller"]
    assert [(c.kind, c.passed, c.value) for c in gate] == [("precondition", False, "none")]
    assert verdict(checks, "sgd_gap_smaller") == "not testable here"
    # add weight decay 0.05 (B 0.877, both acted) with AdamW/Adam 3 there too: decided on 0.05 alone
    checks = weight_decay_checks(wd_runs({0.0: 1.0, 5e-4: 3.0, 0.05: 3.0}), 36, "cpu")
    (d,) = [c for c in checks if c.claim == "sgd_gap_smaller" and c.kind == "direction"]
    assert d.value == "SGDW/SGD 1, AdamW/Adam 3 (weight decay 0.05)"
    assert verdict(checks, "sgd_gap_smaller") == "replicates"


def test_front_page_names_the_scale_a_claim_replicates_at_when_it_is_not_the_profiles_own():
    table = pd.DataFrame(
        {
            "claim": ["A far above B", "C tracks D"],
            "verdict": ["replicates", "replicates"],
            "why": [
                "[cpu, 240 epochs (18,960 steps), seeds 0, 1, 2 (81 of 81 runs)] all 8 checks passed",
                "[cpu] all 2 checks passed; [cpu, CIFAR-10 (JPEG copy)] all 2 checks passed",
            ],
        }
    )
    text = "\n".join(front.answer(table, "cpu"))
    assert "*A far above B* (at cpu, 240 epochs (18,960 steps) only)" in text
    assert "*C tracks D*;" not in text and "*C tracks D*." in text  # replicates at the profile itself
