"""The conda route (environment.yml) and the pip route (pyproject.toml) list the same dependencies,
and the book configuration is a Jupyter Book 1.x one with execution off."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs |= set(extra)
    return reqs


def test_environment_yml_lists_the_pyproject_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {line for line in pip_block if not line.startswith("-e ")}
    assert listed == pyproject_requirements()
    assert any(d == "python=3.11" for d in env["dependencies"] if isinstance(d, str))


def test_book_config_pins_jupyter_book_1_and_turns_execution_off():
    assert "jupyter-book>=1.0.4,<2" in pyproject_requirements()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert (ROOT / f"{toc['root']}.md").exists()
