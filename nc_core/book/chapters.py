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

__all__ = ["PROFILES", "Chapter", "CHAPTERS", "REPO_ROOT", "get_chapter"]

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("smoke", "cpu", "gpu", "paper")


@dataclass(frozen=True)
class Chapter:
    """A book chapter: ``notebooks/<name>.ipynb`` and its parameters per profile.

    ``profiles[p]`` overrides the notebook's own defaults (its ``parameters`` cell) at profile ``p``;
    an empty dict means the notebook's defaults, given ``profile``, are right for that profile
    (notebooks map ``profile`` to their own sizes in the cell after the parameters cell).
    """

    name: str
    title: str
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def notebook(self) -> Path:
        return REPO_ROOT / "notebooks" / f"{self.name}.ipynb"

    def parameters(self, profile: str) -> dict[str, Any]:
        """Papermill parameters for ``profile`` (raises ``ValueError`` for an unknown profile)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
        return {**self.profiles.get(profile, {}), "profile": profile}


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        "theory",
        "Theory: NC0 under SGD, SignGD and decoupled decay",
        # the theorems' simulations are cheap: the cpu defaults are already the full-scale section
        profiles={"smoke": {}},
    ),
    Chapter("dynamics", "Training dynamics: NC metrics and singular values over training", profiles={}),
)


def get_chapter(name: str) -> Chapter:
    """The chapter called ``name`` (raises ``ValueError`` listing the chapters otherwise)."""
    for chapter in CHAPTERS:
        if chapter.name == name:
            return chapter
    raise ValueError(f"unknown chapter {name!r}; chapters: {', '.join(c.name for c in CHAPTERS)}")
