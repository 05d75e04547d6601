"""Execute the chapter notebooks with papermill at a profile; the book is then built without
executing anything (``_config.yml``: ``execute_notebooks: off``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill

from ..provenance import git_commit
from .chapters import REPO_ROOT, Chapter, Variant

__all__ = ["GENERATED", "execute_chapter"]

GENERATED = REPO_ROOT / "book" / "generated"


def execute_chapter(
    chapter: Chapter,
    profile: str,
    out_dir: Path = GENERATED,
    *,
    progress: bool = True,
    parameters: dict[str, Any] | None = None,
    variant: Variant | None = None,
) -> Path:
    """Run ``chapter``'s notebook at ``profile`` into ``out_dir/<page>.ipynb``; return that path.

    ``variant`` adds its parameters (e.g. another architecture and dataset) and its title to the page's
    heading; ``parameters`` override both the profile's and the variant's (e.g. ``results_root`` for a
    throw-away results store).

    The notebook runs with the repository root as working directory (so ``data/`` resolves) and
    ``NC_CORE_GIT_COMMIT`` set, so its provenance cell names the commit even from a copy. A failing
    cell raises ``papermill.PapermillExecutionError`` naming the cell; the partial output is kept
    next to the target as ``<name>.failed.ipynb`` for inspection.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    page = chapter.page(variant)
    target = out_dir / f"{page}.ipynb"
    partial = out_dir / f"{page}.failed.ipynb"
    params = {**chapter.parameters(profile), **(variant.parameters if variant else {}), **(parameters or {})}
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            chapter.notebook, partial, parameters=params,
            kernel_name="python3", cwd=str(REPO_ROOT), progress_bar=progress,
        )  # fmt: skip
    except Exception:
        print(f"{page}: failed at profile {profile!r}; partial output in {partial}")
        raise
    if variant is not None:
        _add_to_title(partial, variant.title)
    os.replace(partial, target)
    print(f"{page}: executed at profile {profile!r} in {time.perf_counter() - start:.0f} s -> {target}")
    return target


def _add_to_title(path: Path, suffix: str) -> None:
    """Append ``: suffix`` to the notebook's title (the first line of its first markdown cell)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown")
    first, _, rest = cell.source.partition("\n")
    if not first.startswith("# "):
        raise ValueError(f"{path}: the first markdown cell must start with the title ('# ...')")
    cell.source = f"{first}: {suffix}\n{rest}"
    nbformat.write(nb, path)
