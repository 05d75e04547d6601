"""The front page's answer: the paper's headline figure at this build's profile and the verdicts by profile.

The front page (``book/intro.md``) is static markdown; what it shows of the build is generated. The claims
page (``notebooks/claims.ipynb``, executed last) writes ``book/generated/front_page.md`` with
:func:`write_front_page` from the same checks its own tables use, and the intro includes that file
(MyST's ``{include}`` directive: it works with notebook execution off, the file is plain markdown). Until
the claims page has run, ``python -m nc_core book execute`` leaves a placeholder there
(:func:`ensure_front_page`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..claims import PAPER_CLAIMS, VERDICTS, claim_verdict, verdicts
from ..profiles import PROFILES
from .layout import repo_relative

__all__ = [
    "FRONT_PAGE",
    "answer",
    "headline_caption",
    "HEADLINE_4X_FIGURE",
    "HEADLINE_FIGURE",
    "HEADLINE_PAGE",
    "ensure_front_page",
    "front_page",
    "verdicts_by_profile",
    "write_front_page",
]

#: The generated file the intro includes (beside the chapter pages).
FRONT_PAGE = "front_page.md"
#: Figure 1 as the ResNet9 / FashionMNIST weight-decay page saves it (``notebooks/weight_decay.ipynb``,
#: ``wd_figure(..., "weight_decay_adam")``: ``<name>_<model>_<dataset>_<profile>``).
HEADLINE_FIGURE = "weight_decay_adam_resnet9_fashionmnist_{profile}.png"
HEADLINE_PAGE = "/book/generated/weight_decay_resnet9_fashionmnist"
#: Figures 1 and 3 at 4x the horizon with seeds, as the same page saves them from grid ``headline_4x``.
HEADLINE_4X_FIGURE = "headline_4x_resnet9_fashionmnist_{profile}.png"
_VERDICTS = VERDICTS
#: the decay budget B = lambda * sum_t eta_t of the paper's Adam (LR 0.001, weight decay 0.05, 93,800 steps)
#: and of the cpu profile's 4,740 steps (nc_core.analysis.decay_budget)
PAPER_BUDGET, CPU_BUDGET = 1.74, 0.088


def verdicts_by_profile(checks: pd.DataFrame) -> pd.DataFrame:
    """Each paper claim's verdict (:func:`nc_core.claims.verdicts`) at each profile with checks: rows are the
    claims (ids), columns the profiles (smoke to paper), cells one of :data:`nc_core.claims.VERDICTS`."""
    present = [p for p in PROFILES if p in set(checks["profile"])]
    out = pd.DataFrame(index=[c.id for c in PAPER_CLAIMS], columns=present, dtype=object)
    for p in present:
        out[p] = verdicts(checks[checks["profile"] == p]).set_index("id")["verdict"]
    return out


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(r) + " |" for r in rows
    ]


def answer(table: pd.DataFrame, profile: str) -> list[str]:
    """The plain-language answer from one profile's verdicts (``table``: :func:`nc_core.claims.verdicts`):
    what replicates, what is weaker at this scale and why (the decay budget), what is contradicted and what
    could not be tested here; one bullet per category that has claims."""
    by = {v: table[table["verdict"] == v] for v in VERDICTS}
    lines = [
        f"**What this build's runs (profile `{profile}`) say about the paper's {len(table)} claims:**",
        "",
    ]

    def names(rows: pd.DataFrame) -> str:
        return "; ".join(f"*{c}*" for c in rows["claim"])

    def where(why: str) -> str:  # the scales a claim replicates at, where the profile's own is not one
        # a reason over several scales reads "[scale] why; [scale] why" (nc_core.claims.claim_verdict)
        scales = [m.split(", seeds")[0] for m in re.findall(r"(?:^|; )\[([^\]]+)\]", why)]
        return f" (at {'; '.join(scales)} only)" if scales and profile not in scales else ""

    if len(by["replicates"]):
        named = "; ".join(f"*{r['claim']}*{where(r['why'])}" for _, r in by["replicates"].iterrows())
        lines.append(f"* **Replicates ({len(by['replicates'])}):** {named}.")
    if len(by["weaker at this scale"]):
        lines.append(
            f"* **Weaker at this scale ({len(by['weaker at this scale'])}):** the direction holds, the "
            "size falls "
            f"short of the paper's: {names(by['weaker at this scale'])} "
            f"({'; '.join(by['weaker at this scale']['why'])}). The usual reason: a weight decay acts on the "
            "time scale 1/(LR x weight decay), measured by the decay budget B = lambda * sum_t eta_t -- "
            f"{PAPER_BUDGET:g} for the paper's Adam at LR 0.001 and weight decay 0.05 over 93,800 steps, "
            f"{CPU_BUDGET:g} at the `cpu` profile's 4,740 steps, so the decay has far less room to act here "
            "(the training-length chapter follows the gaps as the steps grow)."
        )
    if len(by["contradicted"]):
        lines.append(
            f"* **Contradicted ({len(by['contradicted'])}):** the direction fails on valid runs, a real "
            f"disagreement with the paper at this scale: {names(by['contradicted'])}."
        )
    if len(by["not testable here"]):
        lines.append(
            f"* **Not testable here ({len(by['not testable here'])}):** a precondition fails (the paper's "
            "data "
            "is missing, the manipulated decay did not act at this horizon, or no run reached the terminal "
            f"phase): {names(by['not testable here'])}."
        )
    if len(by["not run"]):
        lines.append(f"* **Not run ({len(by['not run'])}):** {names(by['not run'])}.")
    return lines


def headline_caption(verdict: str, where: str = "here") -> str:
    """Figure 1's caption on the front page, claiming no more than the verdict of its own claim
    (``adamw_above_adam``); ``where`` names the scale (``"here"``: the build's profile)."""
    said = {
        "replicates": f"{where}, as in the paper, AdamW's metrics stay far above Adam's",
        "weaker at this scale": f"{where} AdamW's metrics stay above Adam's where the decay acts, "
        "but by less than "
        "in the paper (weaker at this scale)",
        "contradicted": f"{where} AdamW's metrics do not stay above Adam's (contradicted at this scale)",
        "not testable here": f"{where} the comparison cannot be decided (not testable at this scale)",
        "not run": "this build did not decide the comparison",
    }[verdict]
    return (
        "The paper's claim: with coupled decay both metrics fall as the decay grows, with decoupled decay "
        "they "
        f"stay far above; {said}."
    )


def _headline_checks(checks: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The ``adamw_above_adam`` checks of ``profile`` made on the headline's page (ResNet9 / FashionMNIST)."""
    page = HEADLINE_PAGE.rsplit("/", 1)[-1].removeprefix("weight_decay_")
    return checks[
        (checks["paper_claim"] == "adamw_above_adam")
        & (checks["profile"] == profile)
        & (checks["chapter"] == "weight_decay")
        & (checks["variant"] == page)
    ]


def headline_scale_verdict(checks: pd.DataFrame, profile: str) -> tuple[str, str] | None:
    """``(scale, verdict)`` of ``adamw_above_adam`` at the scale the headline campaign decided it (the checks
    of ``profile`` on the headline's page at a scale other than the profile itself; another page's own
    scale, e.g. a dataset copy's, is not the headline's), or ``None`` where no such check was made."""
    mine = _headline_checks(checks, profile)
    mine = mine[mine["scale"] != profile]
    if mine.empty:
        return None
    scale = str(mine["scale"].iloc[-1])
    return scale, claim_verdict(mine[mine["scale"] == scale])[0]


def front_page(
    checks: pd.DataFrame, profile: str, figure: str | Path | None, figure_4x: str | Path | None = None
) -> str:
    """The MyST markdown the intro includes: the plain-language answer from the verdicts of ``profile``
    (:func:`answer`), Figure 1 (``figure``: the PNG, shown where it exists) captioned by its own claim's
    verdict,
    and the number of claims per verdict at each profile with ``checks`` (this build's and the kept checks of
    earlier builds), with every claim in a dropdown."""
    lines: list[str] = []
    if checks.empty:
        return "No page of this build checked a claim yet."
    own = verdicts(checks[checks["profile"] == profile])
    lines += [*answer(own, profile), ""]
    figure = Path(figure) if figure else None
    at_profile = _headline_checks(checks, profile)
    headline = claim_verdict(at_profile[at_profile["scale"] == profile])[0]  # Figure 1 at its own horizon
    at_4x = headline_scale_verdict(checks, profile)
    if figure_4x is not None and Path(figure_4x).is_file() and at_4x is not None:
        scale, verdict_4x = at_4x
        lines += [
            f"```{{image}} /{repo_relative(Path(figure_4x))}",
            ":class: nc-headline",
            f":alt: Figures 1 and 3 at {scale}: final NC0 and NC3 against weight decay, every seed",
            "```",
            "",
            f"**The paper's Figures 1 and 3 at {scale}** (ResNet9 on FashionMNIST, grid `headline_4x`; "
            f"{{doc}}`its page <{HEADLINE_PAGE}>`): final NC0 and NC3 against weight decay, coupled decay "
            "solid, decoupled dashed, each seed a dot, the band the spread over seeds. "
            + headline_caption(verdict_4x, where=f"at {scale.split(', seeds')[0]}"),
            "",
        ]
    if figure is not None and figure.is_file():
        lines += [
            f"```{{image}} /{repo_relative(figure)}",
            ":class: nc-headline",
            f":alt: Figure 1 at profile {profile}: final NC0 and NC3 against weight decay, Adam and AdamW",
            "```",
            "",
            f"**The paper's Figure 1 at profile `{profile}`** (ResNet9 on FashionMNIST, this build's runs; "
            f"{{doc}}`its page <{HEADLINE_PAGE}>`): the final NC0 and NC3 against weight decay under Adam "
            "(coupled decay, solid) and AdamW (decoupled decay, dashed), mean and spread over the valid "
            "runs. " + headline_caption(headline),
            "",
        ]
    else:
        lines += [
            f"*Figure 1 (ResNet9 on FashionMNIST) was not drawn by this build at profile `{profile}`* "
            f"(its page, {{doc}}`weight decay: ResNet9 / FashionMNIST <{HEADLINE_PAGE}>`, has not run).",
            "",
        ]
    matrix = verdicts_by_profile(checks)
    rows = []
    for p in PROFILES:
        if p not in matrix:
            rows.append([f"`{p}`", *("-" for _ in VERDICTS), f"not built (`make book PROFILE={p}`)"])
            continue
        counts = matrix[p].value_counts()
        built = "this build" if p == profile else "kept from an earlier build (`data/claims/`)"
        rows.append([f"`{p}`", *(str(counts.get(v, 0)) for v in VERDICTS), built])
    lines += [
        f"**The paper's {len(PAPER_CLAIMS)} claims at each profile** (the {{doc}}`claims page "
        "</book/generated/claims>` gives every check, its value and why each verdict is what it is):",
        "",
        *_table(rows, ["profile", *VERDICTS, "verdicts from"]),
        "",
        ":::{dropdown} Every claim, by profile",
        "",
        *_table(
            [[c.statement, *(matrix.loc[c.id, p] for p in matrix)] for c in PAPER_CLAIMS],
            ["claim", *(f"`{p}`" for p in matrix)],
        ),
        ":::",
    ]
    return "\n".join(lines)


def write_front_page(path: str | Path, text: str) -> Path:
    """Write the generated front-page markdown to ``path``; return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def ensure_front_page(out_dir: str | Path) -> Path:
    """``<out_dir>/front_page.md``, written as a placeholder where the claims page has not written it."""
    path = Path(out_dir) / FRONT_PAGE
    if not path.exists():
        write_front_page(
            path,
            "*The claims page has not been executed by this build, so its verdicts and Figure 1 are not here "
            "yet* (`python -m nc_core book execute --profile cpu` runs every page, the claims page last).",
        )
    return path
