"""The book's chapters: one parameterised notebook per paper section, and its named scale profiles.

A profile is a named set of papermill parameters for a notebook (never a fork of its code):
``smoke`` (CI: every code path, seconds to minutes on 2 CPU cores), ``cpu`` (a laptop: the book's
default build), ``gpu`` (one GPU) and ``paper`` (the paper's protocol). Every notebook has a
``profile`` parameter and records it, with the rest of its parameters, in its output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..profiles import check_profile

__all__ = [
    "Chapter",
    "CHAPTERS",
    "REPO_ROOT",
    "Variant",
    "figure_pages",
    "page_data",
    "get_pages",
    "execution_order",
    "pages",
    "prerequisites",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Variant:
    """One page of a chapter executed with extra papermill ``parameters`` (e.g. another architecture and
    dataset: the paper's appendix variants of a figure); its page is ``<chapter>_<key>``."""

    key: str
    title: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Chapter:
    """A book chapter: ``notebooks/<name>.ipynb`` and its parameters per profile.

    ``profiles[p]`` overrides the notebook's own defaults (its ``parameters`` cell) at profile ``p``;
    an empty dict means the notebook's defaults, given ``profile``, are right for that profile
    (notebooks map ``profile`` to their own sizes in the cell after the parameters cell). A chapter with
    ``variants`` is executed once per variant, each into its own page; ``figures`` says whether its pages
    must show a figure (the book check enforces it). ``after`` names the chapters whose pages must have been
    executed before this chapter's, because it reads the runs or checks they write (``"*"``: every other
    chapter); pages that need nothing of each other may run at the same time (``book execute --jobs``).
    """

    name: str
    title: str
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    figures: bool = True
    after: tuple[str, ...] = ()

    def page(self, variant: Variant | None = None) -> str:
        """The page (and executed notebook) name of the chapter or of one of its variants."""
        return self.name if variant is None else f"{self.name}_{variant.key}"

    @property
    def notebook(self) -> Path:
        return REPO_ROOT / "notebooks" / f"{self.name}.ipynb"

    def parameters(self, profile: str) -> dict[str, Any]:
        """Papermill parameters for ``profile`` (raises ``ValueError`` for an unknown profile)."""
        check_profile(profile)
        return {**self.profiles.get(profile, {}), "profile": profile}


def _wd_variant(model: str, dataset: str, figures: str, **extra: Any) -> Variant:
    """A weight-decay page of one architecture on one dataset (its display name: the dataset's
    :attr:`~nc_core.data.DatasetSpec.title`); ``extra``: more parameters of the page."""
    from ..data import get_spec

    models = {"resnet9": "ResNet9", "vgg9": "VGG9"}
    return Variant(f"{model}_{dataset}", f"{models[model]} on {get_spec(dataset).title} ({figures})",
                   {"model": model, "dataset": dataset, **extra})  # fmt: skip


#: smoke runs are throw-away: kept out of the shipped results store (data/results)
SMOKE_STORE = {"results_root": "_build/smoke-results"}

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        "theory",
        "Theory: NC0 under SGD, SignGD and decoupled decay",
        # the theorems' simulations are cheap: the cpu defaults are already the full-scale section
        profiles={"smoke": {}},
    ),
    Chapter(
        "dynamics",
        "Training dynamics: NC metrics and singular values over training",
        profiles={"smoke": SMOKE_STORE},
    ),
    Chapter(
        "weight_decay",
        "Weight decay sweeps: NC0 and NC3 against weight decay, and how NC0 relates to NC1-NC4",
        # at smoke the headline grid's two tiny runs are trained (at cpu they are a campaign of hours)
        profiles={"smoke": {**SMOKE_STORE, "headline_train": True}},
        variants=(
            _wd_variant("resnet9", "fashionmnist", "Figures 1-3, 9-12, 44; Tables 2, 5"),
            _wd_variant("vgg9", "fashionmnist", "Figures 19-23"),
            _wd_variant("resnet9", "mnist", "Figures 34-38"),
            _wd_variant("vgg9", "mnist", "Figures 39-43"),
            # CIFAR-10's runs are a campaign of hours (on a local copy where there is no internet): the pages
            # show the runs stored so far and never train, so `make book` trains nothing
            _wd_variant("resnet9", "cifar10", "Figures 24-28", run_missing=False),
            _wd_variant("vgg9", "cifar10", "Figures 29-33", run_missing=False),
        ),
    ),
    # after the weight-decay pages, whose runs it reads
    Chapter(
        "regression",
        "How the NC metrics relate: NC3 against NC0 (Table 5, Figures 9, 10), partial collapse (Section 4.3)",
        profiles={"smoke": SMOKE_STORE},
        after=("weight_decay",),
    ),
    Chapter("momentum", "Momentum and weight decay under SGD (Figure 4)", profiles={"smoke": SMOKE_STORE}),
    Chapter(
        "interpolation",
        "Interpolating Adam and AdamW: the coupled share of the decay (Figure 7)",
        profiles={"smoke": SMOKE_STORE},
    ),
    Chapter(
        "training_length",
        "Training length: the horizon at which the paper's effects appear (Figures 13, 14)",
        profiles={"smoke": SMOKE_STORE},
        # its decay-budget section pools the ResNet9 / FashionMNIST runs of every grid these pages train
        after=("dynamics", "weight_decay", "momentum", "beyond"),
    ),
    Chapter(
        "ufm",
        "The unconstrained feature model at the paper's size (Figure 15)",
        profiles={"smoke": SMOKE_STORE},
    ),
    Chapter(
        "vit",
        "Vision Transformer (Figure 45; a FashionMNIST substitute without CIFAR-10)",
        # never trains at cpu: the substitute's runs are shipped; on CIFAR-10 the runs are a campaign
        profiles={"smoke": SMOKE_STORE, "cpu": {"run_missing": False}},
    ),
    Chapter(
        "imagenet",
        "ResNet50 on ImageNet-1K (Figures 17, 18)",
        profiles={"smoke": SMOKE_STORE},
        figures=False,  # no ImageNet runs here: the page says so instead of drawing
    ),
    # the project's own work, after the paper's chapters
    Chapter(
        "beyond",
        "Beyond the paper: Lion, Schedule-Free, Muon, and neural collapse layer by layer",
        profiles={"smoke": SMOKE_STORE},
    ),
    # a how-to: nc_core.metrics.measure on a torchvision network trained in the page (no store, no claims)
    Chapter("own_training", "Using nc_core in your own training"),
    # last: collects the checks every other page saved
    Chapter("claims", "The paper's claims and their verdicts", figures=False, after=("*",)),
)


def pages() -> list[tuple[Chapter, Variant | None]]:
    """Every page of the book's chapters, in execution order: (chapter, variant or None)."""
    return [(c, v) for c in CHAPTERS for v in (c.variants or (None,))]


def prerequisites(todo: list[tuple[Chapter, Variant | None]]) -> list[set[int]]:
    """For each page of ``todo`` (in order), the positions in ``todo`` of the pages it must wait for: those of
    the chapters its chapter names in ``after`` (every other page for ``"*"``).

    Raises:
        ValueError: ``after`` names a chapter that does not exist, or pages wait for each other in a cycle.
    """
    known = {c.name for c in CHAPTERS} | {c.name for c, _ in todo} | {"*"}
    unknown = {a for c, _ in todo for a in c.after} - known
    if unknown:
        raise ValueError(f"'after' names unknown chapter(s) {sorted(unknown)}")
    needs = [
        {j for j, (other, _) in enumerate(todo) if other is not chapter
         and ("*" in chapter.after or other.name in chapter.after)}
        for chapter, _ in todo
    ]  # fmt: skip
    execution_order(needs, [c.page(v) for c, v in todo])  # a cycle is an error here, before anything runs
    return needs


def execution_order(needs: list[set[int]], names: list[str]) -> list[int]:
    """Positions ``0 .. n-1`` ordered so that each comes after the positions ``needs[i]`` it waits for, and
    otherwise in the given order (Kahn's algorithm, smallest ready position first).

    Raises:
        ValueError: some positions wait for each other in a cycle (``names`` names them).
    """
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(needs):
        ready = next((i for i in range(len(needs)) if i not in done and needs[i] <= done), None)
        if ready is None:
            stuck = [names[i] for i in range(len(needs)) if i not in done]
            raise ValueError(f"pages wait for each other in a cycle: {', '.join(stuck)}")
        order.append(ready)
        done.add(ready)
    return order


def page_data(variant: Variant | None, data_root: str | Path = REPO_ROOT / "data") -> str:
    """What data a page of ``variant`` reads under ``data_root``: ``""`` for a page not tied to one dataset,
    the dataset's title (``"CIFAR-10"``) where its original files are there, its copy's label (``"CIFAR-10
    (JPEG copy)"``, :func:`nc_core.data.copy_label`) where only an imported copy is, ``"no data"`` else."""
    from ..data import check_dataset, copy_label, get_spec
    from ..data.copies import bound_copy

    if variant is None or "dataset" not in variant.parameters:
        return ""
    name = variant.parameters["dataset"]
    if check_dataset(name, data_root).ok:
        return get_spec(name).title
    copy = bound_copy(name, data_root)
    return copy_label(name, copy) if copy else "no data"


def figure_pages(data_root: str | Path = REPO_ROOT / "data") -> list[str]:
    """The pages that must show a figure: every page of a chapter with figures, except a variant whose
    dataset is not available under ``data_root`` (its page says so instead; :func:`page_data`)."""
    return [c.page(v) for c, v in pages() if c.figures and page_data(v, data_root) != "no data"]


def get_pages(name: str) -> list[tuple[Chapter, Variant | None]]:
    """The pages called ``name``: a chapter (all its variants) or one page (``weight_decay_vgg9_mnist``);
    raises ``ValueError`` listing the names otherwise."""
    every = pages()
    found = [(c, v) for c, v in every if name in (c.name, c.page(v))]
    if not found:
        names = sorted({c.name for c, _ in every} | {c.page(v) for c, v in every})
        raise ValueError(f"unknown chapter or page {name!r}; choose from {', '.join(names)}")
    return found
