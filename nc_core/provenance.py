"""Where a number came from: git commit, library versions, device (every result carries this)."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import cache
from pathlib import Path

import torch

__all__ = ["CODE_DIFFS", "code_version", "git_commit", "device_name", "provenance"]


#: Where the diffs of the library against HEAD are kept, one file per distinct diff (see :func:`git_commit`).
CODE_DIFFS = Path(__file__).resolve().parents[1] / "data" / "code"
#: The paths whose differences from HEAD change what a run computes.
_CODE_PATHS = ("nc_core", "pyproject.toml")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@cache
def git_commit() -> str:
    """The code a record was computed with: ``HEAD`` of the checkout holding ``nc_core``, recoverably.

    * ``"<sha>"``: ``nc_core/`` and ``pyproject.toml`` are HEAD's (other files may differ: they do not run);
    * ``"<sha>+diff.<hash>"``: they differ from HEAD; the diff (``git diff HEAD`` of those paths) is kept
      in ``data/code/<hash>.diff`` (``hash`` = the first 12 hex digits of its sha256), so the code is
      ``git checkout <sha> && git apply data/code/<hash>.diff``;
    * the environment variable ``NC_CORE_GIT_COMMIT`` (set by a launcher before it starts workers, so
      that every record of a sweep names the code it started with) overrides both;
    * ``"unknown"`` without git.
    """
    if os.environ.get("NC_CORE_GIT_COMMIT"):
        return os.environ["NC_CORE_GIT_COMMIT"]
    return code_version(Path(__file__).resolve().parents[1], CODE_DIFFS)


def code_version(root: Path, diffs: Path) -> str:
    """:func:`git_commit` of the checkout at ``root``, keeping its diffs in the folder ``diffs``."""
    try:
        sha = _git(root, "rev-parse", "--short=12", "HEAD").strip()
        diff = _git(root, "diff", "--binary", "HEAD", "--", *_CODE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff:
        return sha
    digest = hashlib.sha256(diff.encode()).hexdigest()[:12]
    path = diffs / f"{digest}.diff"
    if not path.exists():
        from .atomic import atomic_write

        diffs.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: tmp.write_bytes(diff.encode()))
    return f"{sha}+diff.{digest}"


def device_name(device: torch.device | str) -> str:
    """Human-readable device: the GPU model for CUDA, the CPU and its thread count otherwise."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU {platform.machine()} ({torch.get_num_threads()} threads)"


def provenance(device: torch.device | str) -> dict[str, str]:
    """The provenance fields stored with every run record."""
    return {
        "git_commit": git_commit(),
        "device_name": device_name(device),
        "torch_version": torch.__version__,
    }
