"""The front page's answer: the paper's headline figure at this build's profile and the verdicts by profile.

The front page (``book/intro.md``) is static markdown; what it shows of the build is generated. The claims
page (``notebooks/claims.ipynb``, executed last) writes ``book/generated/front_page.md`` with
:func:`write_front_page` from the same checks its own tables use, and the intro includes that file
(MyST's ``{include}`` directive: it works with notebook execution off, the file is plain markdown). Until
the claims page has run, ``python -m nc_core book execute`` leaves a placeholder there
(:func:`ensure_front_page`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..claims import PAPER_CLAIMS, verdicts
from ..profiles import PROFILES
from .layout import repo_relative

__all__ = [
    "FRONT_PAGE",
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
_VERDICTS = ("holds", "fails", "not run")


def verdicts_by_profile(checks: pd.DataFrame) -> pd.DataFrame:
    """Each paper claim's verdict (:func:`nc_core.claims.verdicts`) at each profile with checks: rows are the
    claims (ids), columns the profiles (smoke to paper), cells ``holds`` / ``fails`` / ``not run``."""
    present = [p for p in PROFILES if p in set(checks["profile"])]
    out = pd.DataFrame(index=[c.id for c in PAPER_CLAIMS], columns=present, dtype=object)
    for p in present:
        out[p] = verdicts(checks[checks["profile"] == p]).set_index("id")["verdict"]
    return out


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(r) + " |" for r in rows
    ]


def front_page(checks: pd.DataFrame, profile: str, figure: str | Path | None) -> str:
    """The MyST markdown the intro includes: Figure 1 (``figure``: the PNG, shown where it exists) and the
    number of the paper's claims that hold, fail or were not run at each profile with ``checks`` (this
    build's and the kept checks of earlier builds at other profiles), with every claim in a dropdown."""
    lines: list[str] = []
    figure = Path(figure) if figure else None
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
            "runs. "
            "The paper's answer: with coupled decay both metrics fall as the decay grows; with decoupled "
            "decay they stay far above -- whether neural collapse emerges depends on the optimizer.",
            "",
        ]
    else:
        lines += [
            f"*Figure 1 (ResNet9 on FashionMNIST) was not drawn by this build at profile `{profile}`* "
            f"(its page, {{doc}}`weight decay: ResNet9 / FashionMNIST <{HEADLINE_PAGE}>`, has not run).",
            "",
        ]
    if checks.empty:
        return "\n".join([*lines, "No page of this build checked a claim yet."])
    matrix = verdicts_by_profile(checks)
    rows = []
    for p in PROFILES:
        if p not in matrix:
            rows.append([f"`{p}`", "-", "-", "-", f"not built (`make book PROFILE={p}`)"])
            continue
        counts = matrix[p].value_counts()
        built = "this build" if p == profile else "kept from an earlier build (`data/claims/`)"
        rows.append([f"`{p}`", *(str(counts.get(v, 0)) for v in _VERDICTS), built])
    lines += [
        f"**The paper's {len(PAPER_CLAIMS)} claims, decided on this project's own runs** -- how many hold, "
        "fail or were not run at each profile (a profile much smaller than the paper's can fail a claim "
        "about the paper's scale; the {doc}`claims page </book/generated/claims>` gives every check, its "
        "value and the scale it needs):",
        "",
        *_table(rows, ["profile", "holds", "fails", "not run", "verdicts from"]),
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
