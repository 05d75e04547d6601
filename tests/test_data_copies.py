"""Importing CIFAR-10 from a local copy (issue 23): the original files, or a named substitute decoded once.

The copies here are generated: a CIFAR-10-shaped dataset shrunk to 6 training and 3 test images per class
(the spec's sizes are patched so that the count check applies to them), written as PNG (lossless: the
decoded pixels must equal the generated ones exactly) or JPEG, as a folder or a tar archive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from nc_core.data import DATASETS, load_dataset
from nc_core.data.copies import CopyError, active_copy, bound_copy, copy_label, import_copy
from nc_core.sweep import Grid
from nc_core.sweep.store import dataset_version

TRAIN, TEST = 6, 3
CLASSES = DATASETS["cifar10"].classes


@pytest.fixture
def small_cifar(monkeypatch: pytest.MonkeyPatch) -> None:
    """CIFAR-10's spec with 6 training and 3 test images per class."""
    spec = dataclasses.replace(DATASETS["cifar10"], train_size=10 * TRAIN, test_size=10 * TEST)
    monkeypatch.setitem(DATASETS, "cifar10", spec)


def _pixels(split: str, c: int, i: int) -> np.ndarray:
    rng = np.random.default_rng([0 if split == "train" else 1, c, i])
    return rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)


def _tree(root: Path, fmt: str = "png", skip: tuple[str, str] | None = None, **extra: bytes) -> Path:
    """``root/cifar10-x/{train,test}/<class>/NNNN.<fmt>``; ``skip`` = (split, class) left out; ``extra``:
    more files (relative path -> bytes)."""
    base = root / "cifar10-x"
    for split, n in (("train", TRAIN), ("test", TEST)):
        for c, name in enumerate(CLASSES):
            if skip == (split, name):
                continue
            folder = base / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(_pixels(split, c, i)).save(folder / f"{i:04d}.{fmt}")
    for rel, data in extra.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    return base


def _tar(folder: Path, out: Path, evil: str | None = None) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        if evil:
            info = tarfile.TarInfo(evil)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
    return out


def test_png_folder_is_decoded_exactly_in_class_order(small_cifar: None, tmp_path: Path) -> None:
    src = _tree(tmp_path)
    info = import_copy("cifar10", src, tmp_path / "data", log=lambda _: None)
    assert info is not None and info.copy_id.startswith("png-") and info.counts == {"train": 60, "test": 30}
    for train, split, n in ((True, "train", TRAIN), (False, "test", TEST)):
        data = load_dataset("cifar10", root=tmp_path / "data", train=train, copy=info.copy_id)
        assert data.y.tolist() == [c for c in range(10) for _ in range(n)]
        # the same normalisation as the original files: (x / 255 - mean) / std, channel first
        want = np.stack([_pixels(split, c, i) for c in range(10) for i in range(n)]).astype(np.float64) / 255
        mean, std = np.array(DATASETS["cifar10"].mean), np.array(DATASETS["cifar10"].std)
        want = ((want - mean) / std).transpose(0, 3, 1, 2)
        torch.testing.assert_close(data.x.double(), torch.from_numpy(want), atol=1e-6, rtol=0)


def test_archive_gives_the_folders_id_and_a_second_import_does_nothing(
    small_cifar: None, tmp_path: Path
) -> None:
    src = _tree(tmp_path)
    first = import_copy("cifar10", src, tmp_path / "a", log=lambda _: None)
    archive = _tar(src, tmp_path / "copy.tar.gz")
    lines: list[str] = []
    second = import_copy("cifar10", archive, tmp_path / "b", log=lines.append)
    assert first is not None and second is not None and first.copy_id == second.copy_id  # content, not source
    npz = tmp_path / "b" / "cifar10-copy" / "train.npz"
    before = npz.stat().st_mtime_ns
    again = import_copy("cifar10", archive, tmp_path / "b", log=lines.append)
    assert again == second and npz.stat().st_mtime_ns == before and "nothing to do" in lines[-1]


def test_jpeg_copy_is_named_as_such_and_differs_from_the_lossless_one(
    small_cifar: None, tmp_path: Path
) -> None:
    png = import_copy("cifar10", _tree(tmp_path / "p"), tmp_path / "d1", log=lambda _: None)
    jpg = import_copy("cifar10", _tree(tmp_path / "j", fmt="jpg"), tmp_path / "d2", log=lambda _: None)
    assert png is not None and jpg is not None
    assert jpg.copy_id.startswith("jpeg-") and jpg.copy_id[5:] != png.copy_id[4:]
    assert copy_label("cifar10", jpg.copy_id) == "CIFAR-10 (JPEG copy)"
    assert copy_label("cifar10", None) == "CIFAR-10"


def _one_line_error(src: Path, root: Path, match: str) -> None:
    with pytest.raises(CopyError, match=match) as err:
        import_copy("cifar10", src, root, log=lambda _: None)
    assert "\n" not in str(err.value)


def test_bad_copies_give_one_line_errors(small_cifar: None, tmp_path: Path) -> None:
    _one_line_error(tmp_path / "nowhere", tmp_path / "d", "does not exist")
    _one_line_error(
        _tree(tmp_path / "a", skip=("test", "cat")), tmp_path / "d", "no images of the classes cat"
    )
    _one_line_error(
        _tree(tmp_path / "b", **{"train/cat/9999.png": _png()}), tmp_path / "d", "wrong counts.*cat 7"
    )
    _one_line_error(
        _tree(tmp_path / "c", **{"train/unicorn/0.png": _png()}), tmp_path / "d", "unknown classes"
    )
    bad = _tree(tmp_path / "e")
    (bad / "train" / "dog" / "0003.png").write_bytes(b"not an image")
    _one_line_error(bad, tmp_path / "d", "unreadable image .*dog/0003.png")
    big = _tree(tmp_path / "f")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(big / "test" / "ship" / "0000.png")
    _one_line_error(big, tmp_path / "d", "64x64 pixels, expected 32x32")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "readme.txt").write_text("no images")
    _one_line_error(tmp_path / "g", tmp_path / "d", "wrong layout")
    escape = _tar(_tree(tmp_path / "h"), tmp_path / "evil.tar.gz", evil="../../outside.txt")
    _one_line_error(escape, tmp_path / "d", "escapes its folder")
    assert not (tmp_path / "outside.txt").exists()
    assert active_copy("cifar10", tmp_path / "d") is None  # nothing half-imported


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(buf, format="png")
    return buf.getvalue()


def test_cli_reports_a_bad_copy_in_one_line_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "nc_core", "data", "fetch", "cifar10", "--from", str(tmp_path / "empty"),
         "--root", str(tmp_path / "d")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "wrong layout" in proc.stderr


def test_original_files_are_installed_only_when_their_md5_match(
    small_cifar: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "src" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in DATASETS["cifar10"].files:
        (folder / name).write_bytes(name.encode() * 10)
    _one_line_error(tmp_path / "src", tmp_path / "d", "not the original file")
    fake = {name: hashlib.md5(name.encode() * 10).hexdigest() for name in DATASETS["cifar10"].files}
    monkeypatch.setitem(DATASETS, "cifar10", dataclasses.replace(DATASETS["cifar10"], files=fake))
    assert (
        import_copy("cifar10", _tar(folder, tmp_path / "orig.tar.gz"), tmp_path / "d", log=lambda _: None)
        is None
    )
    assert (tmp_path / "d" / "cifar-10-batches-py" / "data_batch_1").read_bytes() == b"data_batch_1" * 10
    # with the original files in place, runs are planned on them even if a copy is imported as well
    import_copy("cifar10", _tree(tmp_path), tmp_path / "d", log=lambda _: None)
    assert bound_copy("cifar10", tmp_path / "d") is None


def _grid() -> Grid:
    return Grid.from_dict({
        "name": "copy_test", "version": 1, "title": "t", "source": "test", "choices": [], "requires": None,
        "fixed": {"model": "resnet9", "dataset": "cifar10", "optimizer": "adam", "lr": 0.001, "epochs": 1,
                  "width": 0.0625, "subset_per_class": 2, "batch_size": 8, "metric_every": 1,
                  "metric_log_points": 0},
        "blocks": [{"name": "b", "fixed": {}, "axes": {"weight_decay": [0.0]}}],
        "profiles": {},
    })  # fmt: skip


def test_runs_on_a_copy_have_their_own_id_version_and_record(small_cifar: None, tmp_path: Path) -> None:
    from nc_core.sweep import load_results, run_sweep

    info = import_copy("cifar10", _tree(tmp_path), tmp_path / "data", log=lambda _: None)
    assert info is not None
    grid = _grid()
    original = grid.expand("paper")[0]
    on_copy = grid.expand("paper", data_root=tmp_path / "data")[0]
    assert original.config.data_copy is None and on_copy.config.data_copy == info.copy_id
    assert on_copy.run_id != original.run_id
    assert (
        dataset_version(on_copy.config) == f"cifar10-copy-{info.copy_id}" != dataset_version(original.config)
    )
    out = run_sweep(grid, "paper", root=tmp_path / "results", data_root=tmp_path / "data", progress=False)
    assert out["statuses"] == {"completed": 1}
    rec = load_results(grid, root=tmp_path / "results")
    assert rec["run_id"].tolist() == [on_copy.run_id] and rec["data_copy"].tolist() == [info.copy_id]
    # another copy imported later: the record is not reused as if it were the new copy's
    import_copy("cifar10", _tree(tmp_path / "other", fmt="jpg"), tmp_path / "data", log=lambda _: None)
    assert grid.expand("paper", data_root=tmp_path / "data")[0].run_id != on_copy.run_id
    with pytest.raises(CopyError, match="but the copy imported under"):
        load_dataset("cifar10", root=tmp_path / "data", copy=info.copy_id)


def test_missing_copy_ids_stay_missing_when_old_and_new_records_are_read_together() -> None:
    from nc_core.sweep.store import type_frame

    old = pd.DataFrame({"run_id": ["a"], "weight_decay": [0.1]})  # written before data_copy existed
    new = type_frame(pd.DataFrame({"run_id": ["b", "c"], "data_copy": [None, "jpeg-0123456789ab"]}))
    both = type_frame(pd.concat([old, new], ignore_index=True))
    assert both["data_copy"].isna().tolist() == [True, True, False]  # never the text "<NA>"
    assert both["data_copy"].iloc[2] == "jpeg-0123456789ab"
