"""The paper's claims, the checks that decide them on the project's own runs, and their verdicts.

A *check* (:class:`Check`) is one measurement with a pass/fail outcome and a **kind** that says what it
tests (:data:`KINDS`):

* ``direction`` - the sign of an effect (AdamW's NC0 above Adam's; NC0 falls as weight decay grows);
* ``magnitude`` - the size of an effect against the paper's number (the ratio is 10x; R^2 > 0.7); the check
  keeps ``shortfall`` = measured / required, so a reader sees by how much a magnitude falls short;
* ``precondition`` - whether the runs can decide the claim at all: the manipulated variable acted at this
  horizon (the decay budget ``B = lambda * sum_t eta_t`` shrank weights by at least 10%), the data is the
  paper's and not a substitute, there are runs to compare;
* ``integrity`` - the project's own computations and bookkeeping (every planned run finished, a closed form
  matches a simulation); with a claim attached (the theory chapter) it decides the claim as a direction does.

A check about trained runs records whether they were in the **terminal phase** (``terminal``: every run behind
it completed at >= 99% training accuracy, :func:`nc_core.profiles.terminal_phase`), derived by the check
builders (:func:`direction`, :func:`magnitude`, ...) from the runs they are given, never typed by a page.

The chapter checks live in :mod:`nc_core.claims_checks` (one module per chapter, unit-tested); a page
collects them in a :class:`ClaimLog` (``log.extend(...)``) and saves them as JSON. :func:`verdicts` gives each
claim one of :data:`VERDICTS` at a profile:

* **replicates** - on valid runs in the terminal phase, every direction and every magnitude check passed;
* **weaker at this scale** - the direction holds on such runs, but a magnitude falls short of the paper's
  (the verdict says by how much);
* **contradicted** - a direction check failed on such runs: a real disagreement with the paper;
* **not testable here** - a precondition failed (substitute data, the decay did not act, no runs to
  compare), or every run behind the claim's checks was below the validity rule;
* **not run** - no page of this build checked it.

A check on runs below the validity rule never makes a claim replicate, nor contradicts it. "Above" and
"below" have a tolerance (:data:`MIN_EFFECT`): a ratio counts as above only when it exceeds 1.1, as below
only under 1/1.1, because final NC0 varies by about 9% from seed to seed at the ``cpu`` profile (coefficient
of variation over the three seeds per share of the Figure 7 grid: 8.7% to 9.2%); 1.0015 is no effect.

A verdict is decided per *scale* (``scale``: the profile by default, or e.g. one horizon of the
training-length chapter) and combined over a profile's scales (the most severe: contradicted, then weaker,
then replicates, then not testable). A whole build at a profile other than ``smoke`` keeps its checks under
``data/claims/<profile>/`` (:func:`archive_checks`), so the claims page of a later build shows them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .profiles import PROFILES, terminal_phase

__all__ = [
    "CLAIMS_ARCHIVE",
    "FINDINGS",
    "KINDS",
    "MIN_EFFECT",
    "PAPER_CLAIMS",
    "VERDICTS",
    "Check",
    "ClaimLog",
    "PaperClaim",
    "above",
    "archive_checks",
    "below",
    "claim_verdict",
    "direction",
    "integrity",
    "load_archived_checks",
    "load_checks",
    "magnitude",
    "precondition",
    "verdict_matrix",
    "verdict_tables",
    "verdicts",
]

#: Where whole builds at a profile other than ``smoke`` keep their checks (one folder per profile).
CLAIMS_ARCHIVE = Path("data/claims")
_COLUMNS = ["chapter", "variant", "profile", "scale", "check", "value", "kind", "passed", "paper_claim",
            "terminal", "shortfall"]  # fmt: skip

#: What a check tests (see the module docstring).
KINDS: tuple[str, ...] = ("direction", "magnitude", "precondition", "integrity")

#: A claim's verdict at a profile, most favourable first.
VERDICTS: tuple[str, ...] = (
    "replicates",
    "weaker at this scale",
    "contradicted",
    "not testable here",
    "not run",
)

#: A ratio counts as "above" only when > MIN_EFFECT, as "below" only when < 1 / MIN_EFFECT: about the
#: seed-to-seed variation of final NC0 at the cpu profile (coefficient of variation 9%).
MIN_EFFECT = 1.1


def above(ratio: float, tolerance: float = MIN_EFFECT) -> bool:
    """``ratio > tolerance`` (False for NaN): "above" with the seed-to-seed tolerance :data:`MIN_EFFECT`."""
    return bool(ratio > tolerance)


def below(ratio: float, tolerance: float = MIN_EFFECT) -> bool:
    """``ratio < 1 / tolerance`` (False for NaN): "below" with the tolerance :data:`MIN_EFFECT`."""
    return bool(ratio < 1.0 / tolerance)


@dataclass(frozen=True)
class PaperClaim:
    """One claim of the paper: where it is made, which chapter checks it (``""``: none yet) and how."""

    id: str
    statement: str
    source: str
    chapter: str
    decided_by: str


PAPER_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("adamw_above_adam", "AdamW's NC0 and NC3 stay far above Adam's at every weight decay",
               "Section 3.2, Figure 1 (and 19, 24, 29, 34, 39)", "weight_decay",
               "mean final NC0/NC3 over LRs and momenta, per weight decay, AdamW vs Adam"),
    PaperClaim("signumw_above_signum", "SignumW's NC0 and NC3 stay far above Signum's at every weight decay",
               "Section 3.2, Figure 3 (and 20, 25, 30, 35, 40)", "weight_decay",
               "mean final NC0/NC3 per weight decay, SignumW vs Signum"),
    PaperClaim("coupled_wd_lowers_nc", "Larger coupled weight decay lowers NC0 and NC3 (weight decay is "
               "necessary to reduce the NC metrics)", "Section 3.2, Figures 1 and 3", "weight_decay",
               "mean final NC0/NC3 at the largest coupled weight decay vs at none, for SGD, Adam, Signum"),
    PaperClaim("sgd_gap_smaller", "SGD and SGDW stay close; the coupled/decoupled gap is much larger for "
               "adaptive optimizers", "Section 3.2, Figure 3", "weight_decay",
               "NC0 ratio decoupled/coupled at shared weight decays: SGDW/SGD below AdamW/Adam"),
    PaperClaim("nc4_at_full_accuracy", "NC4 holds whenever training accuracy is ~100%",
               "Section 4, Figure 44", "weight_decay",
               "NC4 (test set) >= 0.95 in every run with >= 99% training accuracy"),
    PaperClaim("nc0_tracks_nc3", "NC0 correlates with NC3: a linear fit explains over 70% of NC3's variation",
               "Section 2, Figures 2, 9, 10, Table 5", "weight_decay",
               "OLS NC3 ~ NC0 over the valid runs of each architecture x dataset: slope, p, R^2"),
    PaperClaim("nc4_uncorrelated", "NC4 is largely uncorrelated with NC1-NC3", "Section 4, Figure 44",
               "weight_decay", "Spearman correlation of NC4 with NC1, NC2, NC3 over the valid runs"),
    PaperClaim("dynamics_decoupled_nc0", "Under AdamW and SignumW NC0 ends far above its coupled "
               "counterpart's and rises from initialisation", "Section 3.3, Figure 5, Table 1", "dynamics",
               "final NC0 ratios and signs of the change from initialisation in the six Table 4 runs"),
    PaperClaim("dynamics_w_sv_grows", "The smallest singular value of W grows under AdamW and SignumW, so "
               "NC3 cannot be met", "Section 3.3, Figures 6 and 16", "dynamics",
               "smallest singular value of W over training in the AdamW and SignumW runs"),
    PaperClaim("thm31_sgd_nc0_decay", "Under SGD with momentum and weight decay NC0 decays to zero at a "
               "rate set by momentum and weight decay", "Theorem 3.1, Lemmas E.5 and E.6", "theory",
               "float64 simulations vs the exact recursion, the theorem's rate and Eq. (26)"),
    PaperClaim("thm33_signgd_decoupled", "Sign GD with decoupled weight decay keeps NC0 bounded away from "
               "zero (closed form)", "Theorem 3.3", "theory", "simulated UFM vs the closed form"),
    PaperClaim("thm34_signgd_coupled", "Sign GD with coupled weight decay drives NC0 up, then down into an "
               "O(eta^2) band", "Theorem 3.4", "theory", "simulated UFM: structure, switch times, band"),
    PaperClaim("prop21_nc0_necessary", "NC2 and NC3 imply NC0 (NC0 is necessary for NC)", "Proposition 2.1",
               "theory", "NC0 of a simplex-ETF classifier and a perturbed one"),
    PaperClaim("fig8_mlp_split", "On a small MLP, coupled optimizers drive NC0 down and decoupled ones keep "
               "it up", "Figure 8", "theory", "final NC0 per optimizer on separable data"),
    PaperClaim("momentum_accelerates_sgd", "Momentum accelerates neural collapse under SGD with weight decay",
               "Section 3.2, Figure 4", "momentum", "final NC0/NC3 with the largest momentum vs without, at "
               "each weight decay (grid fig4_heatmap)"),
    PaperClaim("coupled_share_restores_nc", "A small coupled share of the total weight decay restores NC "
               "under Adam/AdamW: NC0, NC2 and NC3 improve smoothly as the coupled share of a fixed total "
               "decay grows",
               "Section 3.4, Figure 7", "interpolation", "Spearman trend of each final metric in the coupled "
               "share over all seeds, and whether every step between neighbouring shares lowers the mean"),
    PaperClaim("coupled_share_accuracy", "Validation accuracy is largely unaffected by the coupled share",
               "Section 3.4, Figure 7", "interpolation", "spread of the per-share mean validation accuracy "
               "(within one point), with the one-way ANOVA on the share against the seed-to-seed spread"),
    PaperClaim("longer_training_keeps_gap", "Training ten times longer does not close the Adam/AdamW gap",
               "Appendix D.4.1, Figure 13", "training_length", "AdamW/Adam final NC0 ratio of the Table 4 "
               "runs at the shortest vs the longest horizon; Figure 13: AdamW above Adam at every weight "
               "decay after the longer training"),
    PaperClaim("epochs_200_suffice", "200 epochs suffice: longer training lowers the NC metrics but keeps "
               "the trend over weight decay", "Appendix D.4.1, Figure 14", "training_length",
               "Figure 14's six SGD runs: rank correlation of final NC0/NC3 between the two horizons, and "
               "whether every metric fell"),
    PaperClaim("partial_collapse", "NC properties need not emerge together: AdamW reaches the smallest "
               "NC1 and NC2 while NC0 diverges and NC3 is not met (partial neural collapse)",
               "Section 4.3, Table 2", "regression", "per page, runs with NC1 and NC2 at or below the "
               "coupled optimizers' median and NC0 and NC3 above it; Table 2's smallest-NC3 AdamW run"),
    PaperClaim("ufm_adamw_no_nc", "In the unconstrained feature model AdamW's NC0 and NC3 stay an order of "
               "magnitude above Adam's and SGD's", "Appendix D.4.2, Figure 15", "ufm",
               "ratio of AdamW's mean final NC0/NC3 over its 100%-accuracy runs to Adam's and SGD's at every "
               "shared weight decay > 0, under the main protocol and under each one-change alternative"),
    PaperClaim("vit_sgd_wd_lowers_nc", "ViT: with SGD the NC metrics fall as weight decay grows",
               "Appendix D.4.5, Figure 45", "vit", "SGD's mean final NC0/NC3 at its largest valid weight "
               "decay vs none, with the rank correlation (CIFAR-10; without it a labelled FashionMNIST "
               "substitute)"),
    PaperClaim("vit_adaptive_shapes", "ViT: with Adam and AdamW NC0 first rises then falls with weight "
               "decay, and NC3 is U-shaped", "Appendix D.4.5, Figure 45", "vit", "the largest mean NC0 and "
               "the smallest mean NC3 strictly inside the weight-decay range (CIFAR-10, or the labelled "
               "substitute)"),
)  # fmt: skip


#: The project's own findings beyond the paper (its Section 4.5): decided like the paper's claims, shown
#: apart from them ("Finding" rows), never gated (gate ``none``): a measurement, not a reproduction.
FINDINGS: tuple[PaperClaim, ...] = (
    PaperClaim("finding_lion", "Lion: decoupled decay keeps NC0 above the coupled variant's at every weight "
               "decay, and the coupled variant's NC0 falls (as SignumW and Signum)",
               "beyond the paper: Theorems 3.3 and 3.4 applied to Lion", "beyond",
               "mean NC0 of Lion over Lion (coupled) at every shared weight decay > 0 (> 1.1), and the "
               "prediction table's rows of both: Lion (coupled)'s NC0 falls >= 10x with decay, Lion's does "
               "not"),
    PaperClaim("finding_schedulefree", "Schedule-Free: AdamW-SF (decoupled) keeps NC0 above SGD-SF (coupled) "
               "at every weight decay, and SGD-SF's NC0 falls", "beyond the paper: Theorems 3.1 and 3.3 "
               "applied to Schedule-Free", "beyond", "as for Lion, for the pair AdamW-SF / SGD-SF (both "
               "members' predictions)"),
    PaperClaim("finding_muon", "Muon: NC0 does not fall with decoupled decay, whether the classifier is "
               "trained by AdamW (the usual recipe) or by Muon", "beyond the paper: decoupled decay under "
               "Muon", "beyond", "mean NC0 without decay over the lowest with decay (< 10), for muon and "
               "muon_all"),
    PaperClaim("finding_layers", "Decoupled decay keeps NC1 above its coupled counterpart's at every depth, "
               "not only at the last layer", "beyond the paper: its Section 4.5's open question", "beyond",
               "per stage of ResNet9 and VGG9, NC1 of AdamW/SignumW over Adam/Signum at the Table 4 "
               "configurations"),
)  # fmt: skip


_KNOWN = {c.id for c in (*PAPER_CLAIMS, *FINDINGS)}


def _as_text(value: Any) -> str:
    """A check's measured value as text: JSON where possible (NumPy scalars as numbers), else ``str``."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    except (TypeError, ValueError):  # e.g. tuple keys
        return str(value)


@dataclass(frozen=True)
class Check:
    """One check: its ``text``, measured ``value`` (text), ``passed``, ``kind`` (:data:`KINDS`), the ``claim``
    it bears on (an id of :data:`PAPER_CLAIMS` / :data:`FINDINGS`, ``""``: none), the ``scale`` it was decided
    at (``""``: the page's profile), ``terminal`` (the runs behind it were in the terminal phase; ``None``:
    not about trained runs) and, for a magnitude, ``shortfall`` = measured / required (NaN otherwise)."""

    text: str
    value: str
    passed: bool
    kind: str
    claim: str = ""
    scale: str = ""
    terminal: bool | None = None
    shortfall: float = math.nan

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; choose from {', '.join(KINDS)}")
        if self.claim and self.claim not in _KNOWN:
            raise ValueError(f"unknown claim {self.claim!r}; see nc_core.claims.PAPER_CLAIMS and FINDINGS")


def _make(
    kind: str,
    text: str,
    value: Any,
    passed: bool,
    claim: str,
    runs: pd.DataFrame | None,
    scale: str,
    shortfall: float = math.nan,
) -> Check:
    return Check(text, _as_text(value), bool(passed), kind, claim, scale, terminal_phase(runs), shortfall)


def direction(
    text: str, value: Any, passed: bool, claim: str = "", *, runs: pd.DataFrame | None = None, scale: str = ""
) -> Check:
    """A check of the sign of an effect, decided on ``runs`` (the final records behind it; their terminal
    phase is recorded)."""
    return _make("direction", text, value, passed, claim, runs, scale)


def magnitude(
    text: str,
    measured: float,
    required: float,
    claim: str = "",
    *,
    runs: pd.DataFrame | None = None,
    scale: str = "",
    paper: str = "",
) -> Check:
    """A check of the size of an effect: passes when ``measured >= required`` (a ratio, an R^2, ...); the
    value
    says the measurement, the requirement, the paper's number (``paper``, as printed) and the share of the
    requirement reached (``shortfall`` = measured / required)."""
    share = measured / required if required else math.nan
    where = f"; paper: {paper}" if paper else ""
    reached = f"{share:.0%} of it" if not share >= 10 else f"{share:,.0f} times it"  # not "203259%"
    value = f"{measured:.3g} against {required:.3g} required ({reached}{where})"
    return _make("magnitude", text, value, measured >= required, claim, runs, scale, share)


def precondition(
    text: str, value: Any, passed: bool, claim: str = "", *, runs: pd.DataFrame | None = None, scale: str = ""
) -> Check:
    """A check that the runs can decide ``claim`` at all (the variable acted, the data is the paper's, there
    are runs to compare); when it fails the claim is not testable at that scale."""
    return _make("precondition", text, value, passed, claim, runs, scale)


def integrity(
    text: str, value: Any, passed: bool, claim: str = "", *, runs: pd.DataFrame | None = None, scale: str = ""
) -> Check:
    """A check of the project's own computations or bookkeeping; a page run with ``strict`` raises when one
    fails (:meth:`ClaimLog.finish`)."""
    return _make("integrity", text, value, passed, claim, runs, scale)


class ClaimLog:
    """The checks of one notebook run (one chapter page at one profile)."""

    def __init__(self, chapter: str, profile: str, variant: str = "", scale: str = "") -> None:
        """``scale``: where the page's checks are decided when a check names none (default: the profile);
        a page on other data than the other pages of its profile (e.g. a copy of a dataset) names its own,
        so that its verdicts are told apart."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
        self.chapter, self.profile, self.variant = chapter, profile, variant
        self.scale = scale or profile
        self.rows: list[dict[str, Any]] = []

    def extend(self, checks: Iterable[Check]) -> list[Check]:
        """Record ``checks`` (built by :mod:`nc_core.claims_checks`); return them as a list."""
        checks = list(checks)
        for c in checks:
            if not isinstance(c, Check):
                raise TypeError(f"expected a nc_core.claims.Check, got {type(c).__name__}")
            self.rows.append(
                {
                    "chapter": self.chapter,
                    "variant": self.variant,
                    "profile": self.profile,
                    "scale": c.scale or self.scale,
                    "check": c.text,
                    "value": c.value,
                    "kind": c.kind,
                    "passed": c.passed,
                    "paper_claim": c.claim,
                    "terminal": c.terminal,
                    "shortfall": None if math.isnan(c.shortfall) else float(c.shortfall),
                }
            )
        return checks

    def table(self) -> pd.DataFrame:
        """The checks with a plain ``result``: "passed", or what a failure means for its kind."""
        df = pd.DataFrame(self.rows, columns=_COLUMNS)
        df["result"] = [_result(r) for _, r in df.iterrows()]
        df["before the terminal phase"] = df["terminal"].map(lambda t: "yes" if t is False else "")
        return df

    def failed(self) -> list[str]:
        """The integrity checks that failed (an error of the code or of the bookkeeping, not a finding)."""
        return [r["check"] for r in self.rows if r["kind"] == "integrity" and not r["passed"]]

    def save(self, folder: str | Path) -> Path:
        """Write the checks to ``folder/<chapter>[__<variant>].json`` (read back by :func:`load_checks`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (self.chapter + (f"__{self.variant}" if self.variant else "") + ".json")
        path.write_text(json.dumps(self.rows, indent=1))
        return path

    def finish(self, strict: bool) -> None:
        """Raise ``AssertionError`` listing the failed integrity checks when ``strict``."""
        failed = self.failed()
        if strict and failed:
            raise AssertionError("failed integrity checks:\n" + "\n".join(failed))


def _result(row: pd.Series) -> str:
    if row["passed"]:
        return "passed"
    return {
        "direction": "direction fails",
        "magnitude": "smaller than the paper's",
        "precondition": "cannot be tested here",
        "integrity": "ERROR",
    }[row["kind"]]


def _legacy_kind(row: pd.Series) -> str:
    """The kind of a check saved before kinds existed: ungated-at-cpu checks were the paper-scale ones."""
    if not row["paper_claim"]:
        return "integrity"
    return "magnitude" if row.get("gate") == "paper" else "direction"


def load_checks(folder: str | Path) -> pd.DataFrame:
    """Every check saved under ``folder`` by :meth:`ClaimLog.save` (an empty frame if there is none); checks
    saved before kinds existed get one from their gate (``paper`` -> magnitude, else direction, no claim ->
    integrity), and their profile as scale where they have none."""
    rows = [row for path in sorted(Path(folder).glob("*.json")) for row in json.loads(path.read_text())]
    df = pd.DataFrame(rows, columns=[*_COLUMNS, "gate"])
    if len(df):
        df["paper_claim"] = df["paper_claim"].fillna("")
        df["kind"] = [
            k if isinstance(k, str) else _legacy_kind(r)
            for k, (_, r) in zip(df["kind"], df.iterrows(), strict=True)
        ]
    df["scale"] = df["scale"].where(df["scale"].notna() & (df["scale"] != ""), df["profile"])
    df["terminal"] = df["terminal"].astype(object).where(df["terminal"].notna(), None)
    return df[_COLUMNS]


def archive_checks(folder: str | Path, profile: str, archive: str | Path = CLAIMS_ARCHIVE) -> Path:
    """Replace ``archive/<profile>/`` by the checks saved under ``folder`` (a whole build's); return it.

    Raises:
        ValueError: ``profile`` is ``smoke`` (throw-away CI checks are not kept) or unknown.
    """
    if profile not in PROFILES or profile == "smoke":
        raise ValueError(f"only the checks of a cpu, gpu or paper build are archived, not {profile!r}")
    target = Path(archive) / profile
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(Path(folder).glob("*.json")):
        shutil.copy2(path, target / path.name)
    return target


def load_archived_checks(archive: str | Path = CLAIMS_ARCHIVE, exclude: str = "") -> pd.DataFrame:
    """The archived checks of every profile but ``exclude`` (the build's own, which come fresh)."""
    frames = [load_checks(d) for d in sorted(Path(archive).glob("*")) if d.is_dir() and d.name != exclude]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else load_checks(Path(archive) / "-")


def _scale_verdict(rows: pd.DataFrame) -> tuple[str, str]:
    """The verdict of one claim at one scale from its checks there, and the reason in words."""
    failed_pre = rows[(rows["kind"] == "precondition") & ~rows["passed"].astype(bool)]
    if len(failed_pre):
        reasons = dict.fromkeys(f"{r['check']} ({r['value']})" for _, r in failed_pre.iterrows())
        return "not testable here", "; ".join(reasons)
    decisive = rows[rows["kind"] != "precondition"]
    usable = decisive[decisive["terminal"].map(lambda t: t is not False)]
    if decisive.empty:
        return "not testable here", "only preconditions were checked"
    if usable.empty:
        return "not testable here", "every run behind its checks was below 99% training accuracy"
    passed = usable["passed"].astype(bool)
    wrong = usable[~passed & (usable["kind"] != "magnitude")]
    if len(wrong):
        return "contradicted", "; ".join(
            dict.fromkeys(f"{r['check']} ({r['value']})" for _, r in wrong.iterrows())
        )
    short = usable[~passed & (usable["kind"] == "magnitude")]
    if len(short):
        return "weaker at this scale", "; ".join(
            dict.fromkeys(f"{r['check']}: {r['value']}" for _, r in short.iterrows())
        )
    on_runs = " on runs in the terminal phase" if (usable["terminal"] == True).any() else ""  # noqa: E712
    return "replicates", f"all {len(usable)} deciding checks passed{on_runs}"


_SEVERITY = ("contradicted", "weaker at this scale", "replicates", "not testable here")


def claim_verdict(rows: pd.DataFrame) -> tuple[str, str]:
    """The verdict (:data:`VERDICTS`) of one claim from its checks at one profile, and the reason: decided per
    scale, then the most severe over the scales (contradicted, weaker, replicates, not testable); the reason
    names the scale where the profile has several. ``not run`` without checks."""
    if rows.empty:
        return "not run", ""
    per_scale = {s: _scale_verdict(g) for s, g in rows.groupby("scale", sort=False)}
    for verdict in _SEVERITY:
        reasons = [(s, why) for s, (v, why) in per_scale.items() if v == verdict]
        if reasons:
            if len(per_scale) == 1:
                return verdict, reasons[0][1]
            return verdict, "; ".join(f"[{s}] {why}" for s, why in reasons)
    raise AssertionError("unreachable")  # pragma: no cover


def verdict_matrix(checks: pd.DataFrame, claims: tuple[PaperClaim, ...] = PAPER_CLAIMS) -> pd.DataFrame:
    """Each claim's verdict at every scale with checks: rows are claim ids, columns the scales (by profile,
    smoke to paper, then in order of first appearance); a cell is one of :data:`VERDICTS` (``-`` where the
    scale has no check of the claim)."""
    mine = checks[checks["paper_claim"] != ""]
    firsts = mine.drop_duplicates("scale")
    rank = {p: i for i, p in enumerate(PROFILES)}
    scales = [
        s
        for _, s in sorted(zip(firsts["profile"].map(rank), firsts["scale"], strict=True), key=lambda t: t[0])
    ]
    out = pd.DataFrame("-", index=[c.id for c in claims], columns=scales, dtype=object)
    for (cid, scale), g in mine.groupby(["paper_claim", "scale"], sort=False):
        if cid in out.index:
            out.loc[cid, scale] = _scale_verdict(g)[0]
    return out


def verdict_tables(matrix: pd.DataFrame, max_columns: int = 4) -> list[tuple[str, pd.DataFrame]]:
    """:func:`verdict_matrix` cut into tables that fit a page column: one per profile, and more where a
    profile has over ``max_columns`` scales (in order). A column is named by its scale without the
    profile's prefix (``"cpu, 60 epochs"`` -> ``"60 epochs"``; the bare profile -> ``"all pages"``).

    Returns:
        ``(caption, table)`` pairs; a caption names the profile and, when cut, the part (``"1/2"``).
    """
    if max_columns < 1:
        raise ValueError(f"max_columns must be at least 1, not {max_columns}")
    profile_of = pd.Series({scale: scale.split(",")[0] for scale in matrix.columns}, dtype=object)
    tables = []
    for prof, scales in profile_of.groupby(profile_of, sort=False):
        names = list(scales.index)
        parts = [names[i : i + max_columns] for i in range(0, len(names), max_columns)]
        for k, part in enumerate(parts, start=1):
            short = {s: s[len(prof) :].lstrip(", ") or "all pages" for s in part}
            where = f" (part {k}/{len(parts)})" if len(parts) > 1 else ""
            tables.append(
                (f"Verdict of each claim at profile {prof}{where}", matrix[part].rename(columns=short))
            )
    return tables


def _page(check: pd.Series) -> str:
    return check["chapter"] + (f" ({check['variant']})" if check["variant"] else "")


def verdicts(checks: pd.DataFrame, claims: tuple[PaperClaim, ...] = PAPER_CLAIMS) -> pd.DataFrame:
    """One row per claim: ``verdict`` (:data:`VERDICTS`, by :func:`claim_verdict`) and ``why`` (the failed
    checks, shortfalls or preconditions behind it), the profiles, ``checks`` (``"passed / total"``, with how
    many were on runs below 99% training accuracy) and ``pages``. ``checks`` should hold one profile's checks
    (:func:`verdict_matrix` shows several)."""
    rows = []
    for c in claims:
        mine = checks[checks["paper_claim"] == c.id]
        verdict, why = claim_verdict(mine)
        below_rule = int((mine["terminal"].map(lambda t: t is False)).sum())
        count = f"{int(mine['passed'].astype(bool).sum())} / {len(mine)}" if len(mine) else "-"
        rows.append(
            {
                "id": c.id,
                "claim": c.statement,
                "source": c.source,
                "verdict": verdict,
                "why": why,
                "profile": ", ".join(sorted(set(mine["profile"]))) or "-",
                "checks passed": count + (f" ({below_rule} before the terminal phase)" if below_rule else ""),
                "pages": ", ".join(sorted({_page(r) for _, r in mine.iterrows()})),
                "decided by": c.decided_by,
            }
        )
    return pd.DataFrame(rows)
