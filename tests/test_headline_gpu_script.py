"""The one-command GPU script of the headline (benchmarks/headline_gpu.sh) runs its code path on a CPU at the
smoke scale: plan, Ray sweep with several runs per device, status; the records land in the store it names."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd

from nc_core.sweep import get_grid

REPO = Path(__file__).resolve().parents[1]


def test_headline_gpu_script_at_smoke_on_cpu(tmp_path: Path) -> None:
    env = {**os.environ, "PROFILE": "smoke", "DEVICE": "cpu", "RESULTS": str(tmp_path), "RAY_CPUS": "2"}
    proc = subprocess.run(["bash", str(REPO / "benchmarks" / "headline_gpu.sh")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    planned = {r.run_id for r in get_grid("headline_4x").expand("smoke")}
    finals = list((tmp_path / "headline_4x").glob("*.final.parquet"))
    assert {p.name.split(".")[0] for p in finals} == planned
    assert set(pd.concat(pd.read_parquet(p) for p in finals)["status"]) == {"completed"}
    assert "2 completed" in proc.stdout
