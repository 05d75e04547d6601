"""Records name recoverable code: a clean tree gives HEAD, a modified library gives HEAD plus a kept diff
that reproduces the modified files when applied to a clean checkout of HEAD."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nc_core.provenance import code_version


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "nc_core").mkdir(parents=True)
    (root / "nc_core" / "a.py").write_text("x = 1\n")
    (root / "README.md").write_text("readme\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return root


def test_clean_tree_and_non_code_changes_name_head(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    head = _git(root, "rev-parse", "--short=12", "HEAD").strip()
    assert code_version(root, tmp_path / "diffs") == head
    (root / "README.md").write_text("edited prose does not change what runs\n")
    assert code_version(root, tmp_path / "diffs") == head
    assert not (tmp_path / "diffs").exists()


def test_modified_library_keeps_a_diff_that_recovers_the_code(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    head = _git(root, "rev-parse", "--short=12", "HEAD").strip()
    (root / "nc_core" / "a.py").write_text("x = 2  # changed\n")
    version = code_version(root, tmp_path / "diffs")
    sha, _, digest = version.partition("+diff.")
    assert sha == head and len(digest) == 12
    diff = tmp_path / "diffs" / f"{digest}.diff"
    assert diff.is_file()
    assert code_version(root, tmp_path / "diffs") == version  # same diff, same name, one file
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(root), str(clone))
    _git(clone, "apply", str(diff))
    assert (clone / "nc_core" / "a.py").read_text() == "x = 2  # changed\n"


def test_no_git_is_unknown(tmp_path: Path) -> None:
    assert code_version(tmp_path, tmp_path / "diffs") == "unknown"
