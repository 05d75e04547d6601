"""Import a dataset from a local copy (``python -m nc_core data fetch cifar10 --from PATH``).

Two kinds of copy are accepted, as a folder or as a tar archive (``.tar``, ``.tar.gz``, ``.tgz``):

* **the original files** -- ``cifar-10-python.tar.gz`` or its extracted ``cifar-10-batches-py`` folder: the
  pickles are copied into ``<root>/cifar-10-batches-py`` and verified against torchvision's MD5s, exactly as
  if torchvision had downloaded them. Runs on them are runs of the original data.
* **a substitute** -- an ImageFolder tree of image files, ``[prefix/]{train,test}/<class>/<image>``, with the
  dataset's class names (:attr:`~nc_core.data.specs.DatasetSpec.classes`), its per-class counts (CIFAR-10:
  5,000 training and 1,000 test images per class) and its image size. The images are decoded once into
  ``uint8`` arrays (``<root>/<name>-copy/{train,test}.npz``, ``(N, H, W, C)`` and labels, sorted by class,
  then file name) beside ``copy.json``, which names the copy.

A substitute's identity is its **copy id**, ``<format>-<12 hex>``: the format of its files (``jpeg``,
``png``, ...) and the start of the SHA-256 of the decoded pixels and labels, so the same images give the same
id from a folder or an archive, and other pixel values (another compression) another id. A run on a
substitute carries the id in :attr:`~nc_core.train.RunConfig.data_copy`, which is part of its run id: its
records never stand in for runs of the original files, and the store's dataset version says which copy it
was (:func:`nc_core.sweep.store.dataset_version`).

Every problem with a copy is a :class:`CopyError` with a one-line message: not found, wrong layout, missing or
unknown classes, wrong counts or image sizes, unreadable images, an archive member whose path escapes its
folder, files that fail their checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import numpy as np

from ..atomic import atomic_write
from .specs import DatasetSpec, get_spec

__all__ = [
    "COPYABLE",
    "CopyError",
    "CopyInfo",
    "active_copy",
    "bound_copy",
    "copy_folder",
    "copy_label",
    "import_copy",
    "read_copy",
]

#: The datasets that can be imported from a local copy.
COPYABLE: tuple[str, ...] = ("cifar10",)
_IMAGE_SUFFIXES = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".bmp": "bmp",
    ".ppm": "ppm",
    ".webp": "webp",
}
_SPLITS = ("train", "test")

Log = Callable[[str], None]


class CopyError(ValueError):
    """A local copy cannot be imported or read; ``str(err)`` is one line naming the problem."""


@dataclass(frozen=True)
class CopyInfo:
    """What ``copy.json`` says of an imported substitute.

    Attributes:
        dataset: the dataset's key (``cifar10``).
        copy_id: ``<format>-<12 hex of the SHA-256 of the decoded pixels and labels>``.
        format: the image files' format (``jpeg``, ``png``, ... or ``mixed``).
        source: the path it was imported from, as given.
        source_sha256: SHA-256 of the source (the archive's bytes, or a folder's image files in order).
        counts: ``{"train": n, "test": n}``.
        imported_at: ISO time of the import.
    """

    dataset: str
    copy_id: str
    format: str
    source: str
    source_sha256: str
    counts: dict[str, int]
    imported_at: str


def copy_folder(name: str, root: str | os.PathLike[str] = "data") -> Path:
    """``<root>/<name>-copy``: where the decoded substitute of dataset ``name`` lives."""
    return Path(root) / f"{get_spec(name).key}-copy"


def copy_label(name: str, copy_id: str | None) -> str:
    """How a reader is told which data a number comes from: ``"CIFAR-10"`` for the original files,
    ``"CIFAR-10 (JPEG copy)"`` for a substitute (its format, upper-cased, from the copy id)."""
    title = get_spec(name).title
    if not copy_id:
        return title
    fmt = copy_id.split("-", 1)[0]
    return f"{title} ({fmt.upper() if fmt != 'mixed' else 'image'} copy)"


def active_copy(name: str, root: str | os.PathLike[str] = "data") -> CopyInfo | None:
    """The substitute of dataset ``name`` imported under ``root``, or ``None`` (nothing imported).

    Raises:
        CopyError: ``copy.json`` exists but cannot be read.
    """
    path = copy_folder(name, root) / "copy.json"
    if not path.is_file():
        return None
    try:
        return CopyInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise CopyError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); import the copy again"
        ) from None


def bound_copy(name: str, root: str | os.PathLike[str] = "data") -> str | None:
    """The copy id that runs on dataset ``name`` planned with the data root ``root`` train on: ``None`` when
    the original files are there (they always win: a user who has them gets runs of the original) or when
    nothing is imported, else the imported substitute's id."""
    spec = get_spec(name)
    if spec.key not in COPYABLE or all((Path(root) / spec.folder / f).is_file() for f in spec.files):
        return None
    info = active_copy(spec.key, root)
    return info.copy_id if info else None


def read_copy(
    name: str, root: str | os.PathLike[str], train: bool, copy_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """The images ``(N, H, W, C)`` uint8 and labels ``(N,)`` int64 of one split of the imported copy
    ``copy_id`` of dataset ``name``.

    Raises:
        CopyError: no copy imported, another copy imported, or its arrays are missing or damaged.
    """
    spec = get_spec(name)
    info = active_copy(name, root)
    if info is None:
        raise CopyError(
            f"this run trains on the {copy_label(name, copy_id)} {copy_id}, but no copy of {spec.title} is "
            f"imported under {root}: run `python -m nc_core data fetch {spec.key} --from PATH`"
        )
    if info.copy_id != copy_id:
        raise CopyError(
            f"this run trains on the copy {copy_id} of {spec.title}, but the copy imported under {root} is "
            f"{info.copy_id} (from {info.source})"
        )
    path = copy_folder(name, root) / f"{'train' if train else 'test'}.npz"
    try:
        with np.load(path) as z:
            x, y = z["x"], z["y"].astype(np.int64)
    except (OSError, ValueError, KeyError) as exc:
        raise CopyError(f"{path} cannot be read ({type(exc).__name__}); import the copy again") from None
    return x, y


# -- reading a source ------------------------------------------------------------------------------------


def _safe_parts(name: str) -> tuple[str, ...]:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise CopyError(
            f"the archive member {name!r} has a path that escapes its folder; refusing the archive"
        )
    return tuple(p for p in path.parts if p not in ("", "."))


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith((".tar", ".tar.gz", ".tgz"))


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise CopyError(f"{path} is not a readable tar archive ({type(exc).__name__}: {exc})") from None


def _entries(source: Path) -> Iterator[tuple[tuple[str, ...], Callable[[], bytes]]]:
    """``(path parts, read bytes)`` of every regular file of a folder or an archive, in archive order."""
    if source.is_dir():
        for dirpath, _, files in os.walk(source):
            for f in files:
                full = Path(dirpath) / f
                yield full.relative_to(source).parts, full.read_bytes
        return
    with _open_archive(source) as tar:
        members = tar.getmembers()
        for m in members:
            _safe_parts(m.name)
            if m.issym() or m.islnk():
                raise CopyError(f"the archive member {m.name!r} is a link; refusing the archive")
        for m in members:
            if m.isfile():
                fh = tar.extractfile(m)
                data = fh.read() if fh is not None else b""
                yield _safe_parts(m.name), lambda data=data: data


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# -- the original files ---------------------------------------------------------------------------------


def _original_files(spec: DatasetSpec, source: Path) -> dict[str, Callable[[], bytes]] | None:
    """The dataset's original files found in ``source`` (name -> read), or ``None`` if it holds none."""
    found: dict[str, Callable[[], bytes]] = {}
    if source.is_dir():
        for folder in (source, source / Path(spec.folder).name):
            for fname in spec.files:
                if (folder / fname).is_file() and fname not in found:
                    found[fname] = (folder / fname).read_bytes
        return found or None
    with _open_archive(source) as tar:
        names = {m.name: m for m in tar.getmembers()}
        for m in names.values():
            _safe_parts(m.name)
        for name, m in names.items():
            parts = _safe_parts(name)
            if (
                m.isfile()
                and parts
                and parts[-1] in spec.files
                and len(parts) >= 2
                and parts[-2] == Path(spec.folder).name
            ):
                fh = tar.extractfile(m)
                data = fh.read() if fh is not None else b""
                found[parts[-1]] = lambda data=data: data
    return found or None


def _install_original(
    spec: DatasetSpec, found: dict[str, Callable[[], bytes]], source: Path, root: Path, log: Log
) -> None:
    from .fetch import check_dataset, file_md5

    missing = [f for f in spec.files if f not in found]
    if missing:
        raise CopyError(f"{source} holds {spec.title}'s original files but not {', '.join(missing)}")
    folder = root / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    for fname, read in found.items():
        data = read()
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if digest != spec.files[fname]:
            raise CopyError(
                f"{fname} in {source} has md5 {digest}, expected {spec.files[fname]}: not the original file"
            )
        atomic_write(folder / fname, lambda tmp, data=data: tmp.write_bytes(data))
        assert file_md5(folder / fname) == spec.files[fname]
    log(f"{spec.key}: the original files from {source} -> {check_dataset(spec.key, root).summary()}")


# -- a substitute ---------------------------------------------------------------------------------------


def _decode(data: bytes, where: str, spec: DatasetSpec) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            img = im.convert("RGB" if spec.in_channels == 3 else "L")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CopyError(f"unreadable image {where} ({type(exc).__name__}: {exc})") from None
    if img.size != (spec.image_size, spec.image_size):
        raise CopyError(
            f"image {where} is {img.size[0]}x{img.size[1]} pixels, expected "
            f"{spec.image_size}x{spec.image_size}"
        )
    arr = np.asarray(img, dtype=np.uint8)
    return arr if arr.ndim == 3 else arr[:, :, None]


def _substitute(
    spec: DatasetSpec, source: Path, log: Log
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """Decode an ImageFolder copy: ``{split: (x (N, H, W, C) uint8, y (N,) int64)}`` and its format."""
    classes = {c.lower(): i for i, c in enumerate(spec.classes)}
    per_class = {"train": spec.train_size // len(spec.classes), "test": spec.test_size // len(spec.classes)}
    items: dict[str, list[tuple[int, str, Callable[[], bytes]]]] = {s: [] for s in _SPLITS}
    prefixes, formats, unknown = set(), Counter(), set()
    for parts, read in _entries(source):
        suffix = Path(parts[-1]).suffix.lower()
        if suffix not in _IMAGE_SUFFIXES or len(parts) < 3 or parts[-3].lower() not in _SPLITS:
            continue
        split, cls = parts[-3].lower(), parts[-2]
        if cls.lower() not in classes:
            unknown.add(cls)
            continue
        prefixes.add(parts[:-3])
        formats[_IMAGE_SUFFIXES[suffix]] += 1
        items[split].append((classes[cls.lower()], "/".join(parts), read))
    if not any(items.values()):
        raise CopyError(
            f"{source} has the wrong layout for {spec.title}: expected [prefix/]train/<class>/<image> and "
            f"[prefix/]test/<class>/<image> (or the original {Path(spec.folder).name} files)"
        )
    if len(prefixes) > 1:
        raise CopyError(
            f"{source} holds more than one copy (folders {sorted('/'.join(p) or '.' for p in prefixes)})"
        )
    if unknown:
        raise CopyError(
            f"{source}: unknown classes {sorted(unknown)}; {spec.title}'s are {', '.join(spec.classes)}"
        )
    for split in _SPLITS:
        counts = Counter(label for label, _, _ in items[split])
        absent = [spec.classes[i] for i in range(len(spec.classes)) if counts[i] == 0]
        if absent:
            raise CopyError(f"{source}: the {split} split has no images of the classes {', '.join(absent)}")
        wrong = [f"{spec.classes[i]} {n}" for i, n in sorted(counts.items()) if n != per_class[split]]
        if wrong:
            raise CopyError(
                f"{source}: wrong counts in the {split} split ({', '.join(wrong)}); {spec.title} has "
                f"{per_class[split]:,} images per class there"
            )
    from tqdm.auto import tqdm

    out = {}
    with tqdm(total=sum(len(v) for v in items.values()), desc=f"decoding {spec.key}", unit="img") as bar:
        for split in _SPLITS:
            rows = sorted(items[split], key=lambda t: (t[0], t[1]))
            x = np.empty((len(rows), spec.image_size, spec.image_size, spec.in_channels), np.uint8)
            for i, (_, where, read) in enumerate(rows):
                x[i] = _decode(read(), where, spec)
                bar.update(1)
            out[split] = (x, np.array([label for label, _, _ in rows], np.int64))
    fmt = next(iter(formats)) if len(formats) == 1 else "mixed"
    log(
        f"{spec.key}: decoded {len(out['train'][1]):,} training and {len(out['test'][1]):,} test images "
        f"({fmt})"
    )
    return out, fmt


def _save_npz(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, x=x, y=y)


def _content_digest(arrays: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    h = hashlib.sha256()
    for split in _SPLITS:
        x, y = arrays[split]
        h.update(split.encode())
        h.update(np.ascontiguousarray(x).tobytes())
        h.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return h.hexdigest()


def _source_digest(source: Path) -> str:
    if source.is_file():
        return _sha256_file(source)
    h = hashlib.sha256()
    for dirpath, dirs, files in sorted(os.walk(source)):
        dirs.sort()
        for f in sorted(files):
            full = Path(dirpath) / f
            h.update(str(full.relative_to(source)).encode() + b"\0")
            h.update(full.read_bytes())
    return h.hexdigest()


def import_copy(
    name: str,
    source: str | os.PathLike[str],
    root: str | os.PathLike[str] = "data",
    *,
    log: Log | None = None,
) -> CopyInfo | None:
    """Import dataset ``name`` from the local copy ``source`` (a folder or a tar archive) into ``root``.

    The original files are installed where torchvision reads them and verified (returns ``None``); a
    substitute is decoded once into ``<root>/<name>-copy`` (returns its :class:`CopyInfo`). A second import
    of the same source does nothing. See the module docstring for the layouts.

    Raises:
        CopyError: every problem with the source, in one line.
    """
    log = log or (lambda msg: print(msg, flush=True))
    spec = get_spec(name)
    if spec.key not in COPYABLE:
        raise CopyError(
            f"{spec.title} cannot be imported from a copy (only {', '.join(COPYABLE)}); use `data fetch`"
        )
    src = Path(source)
    if not src.exists():
        raise CopyError(f"{src} does not exist")
    if not (src.is_dir() or _is_archive(src)):
        raise CopyError(f"{src} is neither a folder nor a tar archive (.tar, .tar.gz, .tgz)")
    root = Path(root)
    found = _original_files(spec, src)
    if found is not None:
        from .fetch import check_dataset

        if check_dataset(spec.key, root).ok:
            log(f"{spec.key}: the original files are already in place and verified; nothing to do")
            return None
        _install_original(spec, found, src, root, log)
        return None
    digest = _source_digest(src)
    info = active_copy(spec.key, root)
    if info is not None and info.source_sha256 == digest:
        log(f"{spec.key}: the copy {info.copy_id} from {info.source} is already imported; nothing to do")
        return info
    arrays, fmt = _substitute(spec, src, log)
    folder = copy_folder(spec.key, root)
    if info is not None:
        log(f"{spec.key}: replacing the copy {info.copy_id} imported earlier from {info.source}")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split, (x, y) in arrays.items():
        atomic_write(folder / f"{split}.npz", lambda tmp, x=x, y=y: _save_npz(tmp, x, y))
    new = CopyInfo(
        dataset=spec.key,
        copy_id=f"{fmt}-{_content_digest(arrays)[:12]}",
        format=fmt,
        source=str(source),
        source_sha256=digest,
        counts={s: len(arrays[s][1]) for s in _SPLITS},
        imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    text = json.dumps(new.__dict__, indent=2, sort_keys=True)
    atomic_write(folder / "copy.json", lambda tmp: tmp.write_text(text))
    log(
        f"{spec.key}: imported the {copy_label(spec.key, new.copy_id)} {new.copy_id} into {folder} "
        f"(a substitute for the original files: runs on it say so)"
    )
    return new
