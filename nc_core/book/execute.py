"""Execute the chapter notebooks with papermill at a profile; the book is then built without
executing anything (``_config.yml``: ``execute_notebooks: off``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import papermill

from ..provenance import git_commit
from .chapters import REPO_ROOT, Chapter

__all__ = ["GENERATED", "execute_chapter"]

GENERATED = REPO_ROOT / "book" / "generated"


def execute_chapter(
    chapter: Chapter,
    profile: str,
    out_dir: Path = GENERATED,
    *,
    progress: bool = True,
    parameters: dict[str, Any] | None = None,
) -> Path:
    """Run ``chapter``'s notebook at ``profile`` into ``out_dir/<name>.ipynb``; return that path.

    ``parameters`` override the profile's (e.g. ``results_root`` for a throw-away results store).

    The notebook runs with the repository root as working directory (so ``data/`` resolves) and
    ``NC_CORE_GIT_COMMIT`` set, so its provenance cell names the commit even from a copy. A failing
    cell raises ``papermill.PapermillExecutionError`` naming the cell; the partial output is kept
    next to the target as ``<name>.failed.ipynb`` for inspection.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{chapter.name}.ipynb"
    partial = out_dir / f"{chapter.name}.failed.ipynb"
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            chapter.notebook, partial, parameters={**chapter.parameters(profile), **(parameters or {})},
            kernel_name="python3", cwd=str(REPO_ROOT), progress_bar=progress,
        )  # fmt: skip
    except Exception:
        print(f"{chapter.name}: failed at profile {profile!r}; partial output in {partial}")
        raise
    os.replace(partial, target)
    print(
        f"{chapter.name}: executed at profile {profile!r} in {time.perf_counter() - start:.0f} s -> {target}"
    )
    return target
