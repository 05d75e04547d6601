"""The paper's claims and the checks that decide them on the project's own results.

Every chapter notebook records its checks in a :class:`ClaimLog` (``check(text, value, passed, gate=...,
paper_claim=...)``) and saves them as JSON; the claims page (``notebooks/claims.ipynb``) collects every
saved check and gives each of the paper's claims (:data:`PAPER_CLAIMS`) a verdict with :func:`verdicts`:

* ``holds``: at least one check decides the claim and every one of them passed;
* ``fails``: at least one of its checks failed (at the profile it ran at: a small profile can fail a
  claim about the paper's scale; the page shows the profile);
* ``not run``: no chapter of this build checked it (the registry says what would).

A check's ``gate`` says at which profiles a failure is an error of the code rather than of the scale:
``all`` (every profile), ``cpu+`` (``cpu``, ``gpu`` and ``paper``) or ``paper``; a notebook with
``strict = True`` raises on a failed gated check (:meth:`ClaimLog.finish`).

A check also says at which *scale* it was decided (``scale``: the profile by default, or e.g. one horizon
of the training-length chapter, ``"cpu, 960 epochs (75,840 steps)"``) and whether the runs behind it were
in the terminal phase of training (``terminal``: every run at >= 99% training accuracy, ``None`` when not
about trained runs). :func:`verdict_matrix` gives each claim's verdict at every scale that has checks; a
whole build at a profile other than ``smoke`` keeps its checks under ``data/claims/<profile>/``
(:func:`archive_checks`), so the claims page of a later build at another profile still shows them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .profiles import PROFILES

__all__ = [
    "CLAIMS_ARCHIVE",
    "FINDINGS",
    "GATES",
    "PAPER_CLAIMS",
    "ClaimLog",
    "PaperClaim",
    "archive_checks",
    "load_archived_checks",
    "load_checks",
    "verdict_matrix",
    "verdict_tables",
    "verdicts",
]

#: Where whole builds at a profile other than ``smoke`` keep their checks (one folder per profile).
CLAIMS_ARCHIVE = Path("data/claims")
_COLUMNS = ["chapter", "variant", "profile", "scale", "check", "value", "gate", "passed", "gated",
            "paper_claim", "terminal"]  # fmt: skip

#: gate -> profiles at which a failed check is an error
GATES: dict[str, tuple[str, ...]] = {
    "all": PROFILES,
    "cpu+": ("cpu", "gpu", "paper"),
    "paper": ("paper",),
    "none": (),  # the project's findings: a measurement either way, never an error of the code
}


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
               "mean NC0 of Lion over Lion (coupled) at every shared weight decay > 0 (> 1), and Lion "
               "(coupled)'s mean NC0 without decay over its lowest with decay (>= 10)"),
    PaperClaim("finding_schedulefree", "Schedule-Free: AdamW-SF (decoupled) keeps NC0 above SGD-SF (coupled) "
               "at every weight decay, and SGD-SF's NC0 falls", "beyond the paper: Theorems 3.1 and 3.3 "
               "applied to Schedule-Free", "beyond", "as for Lion, for the pair AdamW-SF / SGD-SF"),
    PaperClaim("finding_muon", "Muon: NC0 does not fall with decoupled decay, whether the classifier is "
               "trained by AdamW (the usual recipe) or by Muon", "beyond the paper: decoupled decay under "
               "Muon", "beyond", "mean NC0 without decay over the lowest with decay (< 10), for muon and "
               "muon_all"),
    PaperClaim("finding_layers", "Decoupled decay keeps NC1 above its coupled counterpart's at every depth, "
               "not only at the last layer", "beyond the paper: its Section 4.5's open question", "beyond",
               "per stage of ResNet9 and VGG9, NC1 of AdamW/SignumW over Adam/Signum at the Table 4 "
               "configurations"),
)  # fmt: skip


def _as_text(value: Any) -> str:
    """A check's measured value as text: JSON where possible (NumPy scalars as numbers), else ``str``."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    except (TypeError, ValueError):  # e.g. tuple keys
        return str(value)


class ClaimLog:
    """The checks of one notebook run (one chapter page at one profile)."""

    def __init__(self, chapter: str, profile: str, variant: str = "", terminal: bool | None = None) -> None:
        """``terminal``: the default of :meth:`check`'s ``terminal`` for this page (e.g. ``True`` when the
        page keeps only runs at >= 99% training accuracy)."""
        if profile not in GATES["all"]:
            raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(GATES['all'])}")
        self.chapter, self.profile, self.variant = chapter, profile, variant
        self.terminal = terminal
        self._known = {c.id for c in (*PAPER_CLAIMS, *FINDINGS)}
        self.rows: list[dict[str, Any]] = []

    def check(
        self,
        text: str,
        value: Any,
        passed: bool,
        gate: str = "all",
        paper_claim: str = "",
        *,
        scale: str = "",
        terminal: bool | None = None,
    ) -> bool:
        """Record one check; ``paper_claim`` is the id of the :data:`PAPER_CLAIMS` entry it bears on,
        ``scale`` where it was decided (default: the profile), ``terminal`` whether every run behind it
        reached >= 99% training accuracy (``None``: the log's default, see :meth:`__init__`)."""
        if gate not in GATES:
            raise ValueError(f"unknown gate {gate!r}; choose from {', '.join(GATES)}")
        if paper_claim and paper_claim not in self._known:
            raise ValueError(f"unknown claim {paper_claim!r}; see nc_core.claims.PAPER_CLAIMS and FINDINGS")
        self.rows.append({
            "chapter": self.chapter, "variant": self.variant, "profile": self.profile, "check": text,
            "value": _as_text(value),
            "gate": gate, "passed": bool(passed), "gated": self.profile in GATES[gate],
            "paper_claim": paper_claim, "scale": scale or self.profile,
            "terminal": None if (t := self.terminal if terminal is None else terminal) is None else bool(t),
        })  # fmt: skip
        return bool(passed)

    def table(self) -> pd.DataFrame:
        """The checks with a ``result``: PASS, FAIL (gated) or "does not hold at profile P" (not gated)."""
        df = pd.DataFrame(self.rows, columns=["check", "value", "gate", "passed", "gated", "paper_claim"])
        df["result"] = [
            "PASS" if p else ("FAIL" if g else f"does not hold at profile {self.profile}")
            for p, g in zip(df["passed"], df["gated"], strict=True)
        ]
        return df

    def failed(self) -> list[str]:
        """The gated checks that failed."""
        return [r["check"] for r in self.rows if r["gated"] and not r["passed"]]

    def save(self, folder: str | Path) -> Path:
        """Write the checks to ``folder/<chapter>[__<variant>].json`` (read back by :func:`load_checks`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (self.chapter + (f"__{self.variant}" if self.variant else "") + ".json")
        path.write_text(json.dumps(self.rows, indent=1))
        return path

    def finish(self, strict: bool) -> None:
        """Raise ``AssertionError`` listing the failed gated checks when ``strict``."""
        failed = self.failed()
        if strict and failed:
            raise AssertionError("failed claims:\n" + "\n".join(failed))


def load_checks(folder: str | Path) -> pd.DataFrame:
    """Every check saved under ``folder`` by :meth:`ClaimLog.save` (an empty frame if there is none);
    checks saved before ``scale`` / ``terminal`` existed get their profile as scale and ``None``."""
    rows = [row for path in sorted(Path(folder).glob("*.json")) for row in json.loads(path.read_text())]
    df = pd.DataFrame(rows, columns=_COLUMNS)
    df["scale"] = df["scale"].where(df["scale"].notna() & (df["scale"] != ""), df["profile"])
    df["terminal"] = df["terminal"].astype(object).where(df["terminal"].notna(), None)
    return df


def archive_checks(folder: str | Path, profile: str, archive: str | Path = CLAIMS_ARCHIVE) -> Path:
    """Replace ``archive/<profile>/`` by the checks saved under ``folder`` (a whole build's); return it.

    Raises:
        ValueError: ``profile`` is ``smoke`` (throw-away CI checks are not kept) or unknown.
    """
    if profile not in GATES["all"] or profile == "smoke":
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


def verdict_matrix(checks: pd.DataFrame, claims: tuple[PaperClaim, ...] = PAPER_CLAIMS) -> pd.DataFrame:
    """Each paper claim's verdict at every scale with checks: rows are claim ids, columns the scales
    (by profile, smoke to paper, then in order of first appearance); a cell is ``holds`` / ``fails`` (as
    :func:`verdicts`), with `` (before the terminal phase)`` when a check of it was decided on runs below
    99% training accuracy, and ``-`` where the scale has no check of the claim."""
    mine = checks[checks["paper_claim"] != ""]
    firsts = mine.drop_duplicates("scale")
    rank = {p: i for i, p in enumerate(GATES["all"])}
    scales = [
        s
        for _, s in sorted(zip(firsts["profile"].map(rank), firsts["scale"], strict=True), key=lambda t: t[0])
    ]
    out = pd.DataFrame("-", index=[c.id for c in claims], columns=scales, dtype=object)
    for (cid, scale), g in mine.groupby(["paper_claim", "scale"], sort=False):
        if cid not in out.index:
            continue
        verdict = "holds" if g["passed"].astype(bool).all() else "fails"
        if (g["terminal"] == False).any():  # noqa: E712 - None (unknown) is not False
            verdict += " (before the terminal phase)"
        out.loc[cid, scale] = verdict
    return out


def verdict_tables(matrix: pd.DataFrame, max_columns: int = 4) -> list[tuple[str, pd.DataFrame]]:
    """:func:`verdict_matrix` cut into tables that fit a page column: one per profile, and more where a
    profile has over ``max_columns`` scales (in order). A column is named by its scale without the
    profile's prefix (``"cpu, 60 epochs"`` -> ``"60 epochs"``; the bare profile -> ``"all pages"``), and
    ``" (before the terminal phase)"`` becomes ``" †"``.

    Returns:
        ``(caption, table)`` pairs; a caption names the profile and, when cut, the part (``"1/2"``).
    """
    if max_columns < 1:
        raise ValueError(f"max_columns must be at least 1, not {max_columns}")
    marked = matrix.replace(regex={r" \(before the terminal phase\)$": " †"})
    profile_of = pd.Series({scale: scale.split(",")[0] for scale in marked.columns}, dtype=object)
    tables = []
    for prof, scales in profile_of.groupby(profile_of, sort=False):
        names = list(scales.index)
        parts = [names[i : i + max_columns] for i in range(0, len(names), max_columns)]
        for k, part in enumerate(parts, start=1):
            short = {s: s[len(prof) :].lstrip(", ") or "all pages" for s in part}
            where = f" (part {k}/{len(parts)})" if len(parts) > 1 else ""
            caption = f"Verdict of each claim at profile {prof}{where}"
            tables.append((caption, marked[part].rename(columns=short)))
    return tables


def _page(check: pd.Series) -> str:
    return check["chapter"] + (f" ({check['variant']})" if check["variant"] else "")


def verdicts(checks: pd.DataFrame, claims: tuple[PaperClaim, ...] = PAPER_CLAIMS) -> pd.DataFrame:
    """One row per paper claim: ``verdict`` (holds / fails / not run), the profiles, the number of checks
    passed, and the failed checks with their values and pages."""
    rows = []
    for c in claims:
        mine = checks[checks["paper_claim"] == c.id]
        failed = mine[~mine["passed"].astype(bool)]
        failures = [f"{r['check']} [{_page(r)}: {r['value']}]" for _, r in failed.iterrows()]
        verdict = "not run" if mine.empty else ("fails" if len(failed) else "holds")
        rows.append({
            "id": c.id, "claim": c.statement, "source": c.source, "verdict": verdict,
            "profile": ", ".join(sorted(set(mine["profile"]))) or "-",
            "checks passed": f"{int(mine['passed'].astype(bool).sum())} / {len(mine)}" if len(mine) else "-",
            "decided by": c.decided_by,
            "failed checks": "; ".join(failures),
        })  # fmt: skip
    return pd.DataFrame(rows)
