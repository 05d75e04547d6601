"""Where a number came from: git commit, library versions, device (every result carries this)."""

from __future__ import annotations

import os
import platform
import subprocess
from functools import cache
from pathlib import Path

import torch

__all__ = ["git_commit", "device_name", "provenance"]


@cache
def git_commit() -> str:
    """``HEAD`` of the checkout holding ``nc_core`` (suffixed ``-dirty`` with uncommitted changes).

    Where the code runs from a copy without ``.git`` (a remote worker), the environment variable
    ``NC_CORE_GIT_COMMIT`` set by the launcher names the commit instead.
    """
    if os.environ.get("NC_CORE_GIT_COMMIT"):
        return os.environ["NC_CORE_GIT_COMMIT"]
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


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
