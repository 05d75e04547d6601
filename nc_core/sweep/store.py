"""The results store: one typed Parquet record per run, written atomically, read back with checks.

Layout under the root (default ``data/results``)::

    <root>/<grid>/<run_id>.final.parquet     one row: config identity, status, final + initial NC metrics,
                                             timings, provenance, grid/profile/dataset version
    <root>/<grid>/<run_id>.history.parquet   one row per epoch (0 = initialisation)
    <root>/<grid>/checkpoints/<run_id>.pt    while a run is in flight (deleted once its record exists)
    <root>/<grid>/logs/<run_id>.log          one log per run (appended across attempts)
    <root>/<grid>/failed/<run_id>.json       the error of a run that raised (retried by the next sweep)

A run one grid plans that another grid under the same root has recorded (the same run id: the same
training configuration, metric schedule included) is not trained again: its record is copied into this
grid's folder with ``reused_from`` naming the grid that trained it (:meth:`ResultStore.adopt`), so every
reader of one grid's folder finds it there and each distinct run is trained once.

Each file is written to a temporary name in the same folder and moved into place with ``os.replace``
(the history first, then the final record, whose presence marks the run as done), so concurrent
workers never clobber each other and a crash never leaves a half-written record. A record that
cannot be read (truncated, overwritten) is reported with its path and excluded, never read silently.

One notion of a valid record, used by status, sweeps and loaders alike (:meth:`ResultStore.record_state`,
:func:`load_results`): the final record is a regular file that reads in full with its page checksums
verified, holds one row with a ``status``, and belongs to its run (its stored ``run_id``, the hash of its
configuration, is the one in its file name); the history likewise reads in full and belongs to the run. A
record failing any of these is *corrupt*: reported with its path, excluded by the loaders, set aside by
the next sweep (renamed ``<file>.corrupt-<time>``) and rerun. A record that cannot be read for a reason
other than its content (no permission) is *not* corrupt: it is an error naming the path
(:class:`RecordAccessError`), and nothing replaces it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import stat
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write, check_writable, fs_clock
from ..data import DATASETS
from ..profiles import VALID_TRAIN_ACC, valid_mask
from ..train import RunConfig
from .grids import Grid, PlannedRun, get_grid
from .summary import valid_runs

__all__ = [
    "DEFAULT_ROOT",
    "VALID_TRAIN_ACC",
    "CorruptRecordWarning",
    "RecordAccessError",
    "RecordMismatchError",
    "ResultStore",
    "dataset_version",
    "load_histories",
    "load_results",
    "prune",
    "sweep_status",
    "type_frame",
    "unplanned_records",
]

DEFAULT_ROOT = "data/results"
STATES = ("completed", "diverged", "failed", "corrupt", "stale", "in_progress", "pending")

_INT_FIELDS = {"epochs", "batch_size", "seed", "subset_per_class", "metric_every", "metric_log_points",
               "epoch", "epochs_completed", "measured_epoch", "grid_version"}  # fmt: skip
_BOOL_FIELDS = {"decay_norm_and_bias", "bf16", "compile", "fused_optimizer"}
_ERRORS = (pa.ArrowException, OSError, ValueError)
#: A claim whose owner cannot be verified expires after this many seconds without a heartbeat.
CLAIM_STALE_AFTER = 3600.0
#: How often a run's owner refreshes its claim (seconds).
CLAIM_HEARTBEAT = 60.0


def _boot_id() -> str | None:
    """This machine's boot id (Linux), or ``None``."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc/<pid>/stat`` field 22),
    or ``None`` where it cannot be read. With the boot id it names a process uniquely, unlike its pid.
    A process that has exited but was not reaped yet (a zombie) has none: ``-1``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rindex(")") + 2 :].split()
        return -1 if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner() -> dict[str, Any]:
    """This process's identity in a claim: host, boot id, pid and the pid's start time."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "boot": _boot_id(), "pid": pid, "start": _process_start(pid)}


def _create_whole(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text`` unless it exists (then ``False``), atomically: the text is written to
    a temporary file first and hard-linked into place, so no reader ever sees the file empty or half
    written, even when its writer is killed. Where hard links are not supported, an exclusive create
    (``O_CREAT | O_EXCL``) and then the write."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        tmp.write_text(text)
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system
            pass
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _fs_age(path: Path, default: float | None = None) -> float:
    """Seconds since ``path`` was last modified, by the clock of the file system that holds it
    (:func:`~nc_core.atomic.fs_clock`: both times stamped by the same server), so no machine's clock,
    skewed or not, plays a part. ``default`` where ``path`` cannot be examined (else raises)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        if default is None:
            raise
        return default
    return fs_clock(path.parent) - mtime


class CorruptRecordWarning(UserWarning):
    """A result file in the store could not be read; it was excluded."""


class RecordAccessError(ValueError):
    """A record or the grid folder exists but cannot be read for a reason other than its content (no
    permission): an error naming the path, never a reason to call the record corrupt or replace it."""


class RecordMismatchError(ValueError):
    """A record file that reads but is not a record of its run: another run's data under this file name,
    no row or more than one, no ``status``. Corruption, like a truncated file."""


def _access_error(path: Path, err: OSError) -> RecordAccessError:
    reason = os.strerror(err.errno) if err.errno else str(err)  # pyarrow's strerror repeats the path
    return RecordAccessError(
        f"cannot read {path}: {reason} (a permission problem, not corruption: the record is left as it "
        "is; fix its permissions)"
    )


def _exists(path: Path) -> bool:
    """Whether ``path`` exists (a dangling link counts); :class:`RecordAccessError` if that cannot be seen."""
    try:
        os.stat(path, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except PermissionError as err:
        raise _access_error(path, err) from None
    return True


def dataset_version(config: RunConfig) -> str:
    """The version of the data a run trains on, stored with its record.

    Image datasets: ``<name>-<first 12 hex of the SHA-256 of its MD5 table>`` (the checksums of
    :data:`nc_core.data.DATASETS`, which ``data fetch`` verifies); an imported substitute (``data_copy``):
    ``<name>-copy-<copy id>`` (the copy id hashes its decoded pixels). Synthetic data is generated by code
    from the config (whose fields are part of the run id): ``<name>-synthetic-v1``.
    """
    name = config.dataset.lower()
    if name in DATASETS and config.data_copy:
        return f"{name}-copy-{config.data_copy}"
    if name in DATASETS:
        table = json.dumps(DATASETS[name].files, sort_keys=True)
        return f"{name}-{hashlib.sha256(table.encode()).hexdigest()[:12]}"
    return f"{name}-synthetic-v1"


def _to_str(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None  # missing stays missing (pd.NA from a string column would otherwise become "<NA>")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Give a results frame its stored types: counts and integer config fields ``Int64``, flags
    ``boolean``, every other number ``float64``, everything else ``string``."""
    out = {}
    for col in df.columns:
        s = df[col]
        if col in _INT_FIELDS:
            out[col] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif col in _BOOL_FIELDS or pd.api.types.is_bool_dtype(s.dtype):
            out[col] = s.astype("boolean")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[col] = s.astype("float64")
        elif s.notna().any() and s.map(lambda v: v is None or _is_number(v)).all():
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            out[col] = s.map(_to_str).astype("string")
    return pd.DataFrame(out, index=df.index)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    # page checksums (CRC32): every read detects flipped bytes anywhere in the data, not only a bad footer
    atomic_write(
        path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow", write_page_checksum=True)
    )


def _read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A result file as an Arrow table, page checksums verified. Raises :class:`RecordAccessError` when the
    file cannot be opened for lack of permission, ``FileNotFoundError`` when it is missing, and one of
    :data:`_ERRORS` when its content is damaged (a directory or other non-file under the name included)."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise RecordMismatchError(f"{path} is not a regular file (a directory or special file)")
        return pq.read_table(path, columns=columns, page_checksum_verification=True)
    except PermissionError as err:
        raise _access_error(path, err) from None


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The one reader of result files: the whole table, page checksums verified (raises on corruption),
    upgraded to the current metric keys (:func:`_upgrade_nc4`)."""
    return _upgrade(_read_table(path, columns).to_pandas())


def _check_run_ids(ids: Iterable[Any], run_id: str, path: Path) -> None:
    """Raise :class:`RecordMismatchError` if a stored ``run_id`` is not ``run_id`` (records written before
    the column existed have none: accepted)."""
    other = sorted({str(i) for i in ids if i is not None and i == i} - {run_id})
    if other:
        raise RecordMismatchError(
            f"{path} holds the record of run {other[0]}, not of {run_id} (a copied or misnamed file)"
        )


def _check_final(df: pd.DataFrame, run_id: str, path: Path) -> None:
    """Raise :class:`RecordMismatchError` unless ``df`` is one final record of ``run_id``."""
    if len(df) != 1:
        raise RecordMismatchError(f"{path} holds {len(df)} rows; a final record holds one")
    if "status" not in df or pd.isna(df["status"].iloc[0]):
        raise RecordMismatchError(f"{path} has no status")
    if "run_id" in df:
        _check_run_ids(df["run_id"], run_id, path)


def _upgrade(df: pd.DataFrame) -> pd.DataFrame:
    """Today's reading of records written by earlier versions (:func:`_upgrade_nc4`; NC1 of a run whose
    class means all coincided, once reported as 0, which reads as perfect collapse: undefined; and
    ``fused_optimizer``, which final records written before it existed lack: their optimizers all ran
    torch's per-tensor loop, so ``False``)."""
    df = _upgrade_nc4(df)
    if "status" in df and "fused_optimizer" not in df:
        df["fused_optimizer"] = False
    for prefix in ("", "init_"):
        nc1, nc2 = f"{prefix}NC1", f"{prefix}NC2"
        if nc1 in df and nc2 in df:
            df.loc[(df[nc1] == 0) & df[nc2].isna(), nc1] = float("nan")
    return df


def _upgrade_nc4(df: pd.DataFrame) -> pd.DataFrame:
    """Records written before NC4 followed eq. 11 as printed stored the centred reading under ``NC4`` and
    eq. 11's under ``NC4_code``; give them today's keys (``NC4`` = eq. 11, ``NC4_centred``), for the final
    values and the ``init_`` ones. Both numbers were measured; nothing is recomputed."""
    for prefix in ("", "init_"):
        old, literal = f"{prefix}NC4", f"{prefix}NC4_code"
        if old in df and literal in df and f"{prefix}NC4_centred" not in df:
            df[f"{prefix}NC4_centred"] = df[old]
            df[old] = df[literal]
    return df


@dataclasses.dataclass(frozen=True)
class ResultStore:
    """The records of one grid under ``root`` (see the module docstring for the layout)."""

    grid: str
    root: Path = Path(DEFAULT_ROOT)

    @property
    def folder(self) -> Path:
        """``<root>/<grid>``."""
        return Path(self.root) / self.grid

    @property
    def checkpoint_dir(self) -> Path:
        """Where in-flight runs keep their checkpoints."""
        return self.folder / "checkpoints"

    def final_path(self, run_id: str) -> Path:
        """The final record of ``run_id``."""
        return self.folder / f"{run_id}.final.parquet"

    def history_path(self, run_id: str) -> Path:
        """The per-epoch history of ``run_id``."""
        return self.folder / f"{run_id}.history.parquet"

    def log_path(self, run_id: str) -> Path:
        """The log file of ``run_id``."""
        return self.folder / "logs" / f"{run_id}.log"

    def failed_path(self, run_id: str) -> Path:
        """The error marker of ``run_id`` (exists while its last attempt raised)."""
        return self.folder / "failed" / f"{run_id}.json"

    def checkpoint_path(self, run_id: str) -> Path:
        """The checkpoint of ``run_id`` (as named by ``run_training``)."""
        return self.checkpoint_dir / f"{run_id}.pt"

    def claim_path(self, run_id: str) -> Path:
        """The claim of ``run_id`` by the process training it (exists while it runs)."""
        return self.folder / "claims" / f"{run_id}.claim"

    def claim(self, run_id: str, stale_after: float = CLAIM_STALE_AFTER) -> bool:
        """Claim ``run_id`` for this process; ``False`` if a live process holds it.

        The claim is a file created atomically (``O_CREAT | O_EXCL``) holding its owner's identity: host,
        boot id, pid and the pid's start time (:func:`_owner`), so that a pid reused by another process
        after the owner died is not mistaken for the owner. While the owner trains, :meth:`heartbeat`
        refreshes the claim's modification time. A claim is stale and taken over when its owner is
        verifiably gone (same host and boot: the pid no longer runs, or runs with another start time) or,
        when that cannot be verified (another machine's claim, or one without a start time), when it has
        not been refreshed for ``stale_after`` seconds -- an age measured on the file system's own clock
        (:func:`_fs_age`), so clock skew between machines decides nothing.
        """
        path = self.claim_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        me = {**_owner(), "since": time.time()}
        for _ in range(2):
            if _create_whole(path, json.dumps(me)):
                return True
            if not self._stale(path, stale_after):
                return False
            path.unlink(missing_ok=True)  # a dead owner's claim: take it over
        return False

    def holds(self, run_id: str, stale_after: float = CLAIM_STALE_AFTER) -> bool:
        """Whether a live process holds this grid's claim of ``run_id`` (the claim is not stale, see
        :meth:`claim`)."""
        path = self.claim_path(run_id)
        return _exists(path) and not self._stale(path, stale_after)

    def held(self, run_id: str, stale_after: float = CLAIM_STALE_AFTER) -> bool:
        """Whether a live process is training ``run_id`` for this grid or for another grid under the same root
        (the same run id is the same training; :meth:`holds`) while this grid has no final record of it."""
        if _exists(self.final_path(run_id)):
            return False
        return any(s.holds(run_id, stale_after) for s in (self, *self.others()))

    def release(self, run_id: str) -> None:
        """Drop this process's claim of ``run_id`` (a claim another process took over is left to it)."""
        path = self.claim_path(run_id)
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads(path.read_text() or "null")
            if isinstance(owner, dict) and owner.get("pid") != os.getpid():
                return
        path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def heartbeat(self, run_id: str, every: float = CLAIM_HEARTBEAT) -> Iterator[None]:
        """Refresh the claim of ``run_id`` every ``every`` seconds (a daemon thread) for the block."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                with contextlib.suppress(OSError):
                    os.utime(self.claim_path(run_id))

        thread = threading.Thread(target=beat, name=f"claim-heartbeat-{run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()

    @staticmethod
    def _stale(path: Path, stale_after: float) -> bool:
        try:
            age = _fs_age(path)
            owner = json.loads(path.read_text() or "null")
        except FileNotFoundError:
            return True
        except (OSError, ValueError):
            owner = None
            age = _fs_age(path, default=0.0)
        if not isinstance(owner, dict):  # its writer died between creating and filling it
            return age > 60.0
        me = _owner()
        same_machine = owner.get("host") == me["host"] and owner.get("boot", me["boot"]) == me["boot"]
        pid = owner.get("pid")
        if same_machine and isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True  # the owner is gone
            except PermissionError:
                pass  # alive, another user's
            now, start = _process_start(pid), owner.get("start")
            if now == -1:
                return True  # exited, not reaped yet
            if start is not None:
                return now is not None and now != start  # the pid now names another process
        # the owner cannot be verified (another machine, or a claim without a start time): it holds the
        # run while it refreshes the claim
        return age > stale_after

    def run_ids(self) -> list[str]:
        """Run ids with a final record file (readable or not), sorted.

        Raises:
            RecordAccessError: the grid folder exists but cannot be listed (no permission).
        """
        try:
            entries = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as err:
            raise _access_error(self.folder, err) from None
        return sorted(n.removesuffix(".final.parquet") for n in entries if n.endswith(".final.parquet"))

    def set_aside(self, run_id: str) -> list[Path]:
        """Rename the final record and history of ``run_id`` (those that exist) to
        ``<file>.corrupt-<UTC time>-<random>``, out of the store's way and kept for inspection; return the
        new paths."""
        stamp = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        moved = []
        for path in (self.final_path(run_id), self.history_path(run_id)):
            if _exists(path):
                aside = path.with_name(f"{path.name}.corrupt-{stamp}")
                os.replace(path, aside)
                moved.append(aside)
        return moved

    def check_writable(self) -> None:
        """Prove the grid folder and each of its working folders (``logs``, ``claims``, ``checkpoints``,
        ``failed``) can be written, before any run starts.

        Raises:
            ValueError: one line naming the folder and the reason.
        """
        check_writable(self.folder)
        for sub in ("logs", "claims", "checkpoints", "failed"):
            check_writable(self.folder / sub)

    def write(self, planned: PlannedRun, history: pd.DataFrame, final: dict[str, Any]) -> None:
        """Write one run's history and final record atomically (history first, final last)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        run_id = planned.run_id
        extra = {
            "grid": planned.grid, "grid_version": planned.grid_version, "profile": planned.profile,
            "profile_overrides": planned.overrides_json(), "profile_select": planned.select_json(),
            "dataset_version": dataset_version(planned.config),
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        hist = history.copy()
        hist.insert(0, "run_id", run_id)
        for key in ("grid", "profile"):
            hist[key] = extra[key]
        _atomic_parquet(type_frame(hist), self.history_path(run_id))
        _atomic_parquet(type_frame(pd.DataFrame([{**final, **extra}])), self.final_path(run_id))

    def others(self) -> list[ResultStore]:
        """The stores of the other grids under the same root (every other folder there), by name."""
        try:
            names = sorted(e.name for e in os.scandir(self.root) if e.is_dir() and e.name != self.grid)
        except OSError:
            return []
        return [ResultStore(name, Path(self.root)) for name in names if not name.startswith((".", "_"))]

    def find_elsewhere(
        self, run_id: str, dataset_ver: str | None = None, *, retry_diverged: bool = False
    ) -> ResultStore | None:
        """The store of another grid under the same root holding a valid, done record of ``run_id`` (the same
        run id is the same training configuration, metric schedule included): completed, or diverged unless
        ``retry_diverged``, of ``dataset_ver`` (:meth:`record_state`); the first such grid by name, or
        ``None``. A record that itself reuses another grid's (:meth:`adopt`) serves as well as its source."""
        done = {"completed"} | (set() if retry_diverged else {"diverged"})
        for other in self.others():
            if not _exists(other.final_path(run_id)):
                continue
            try:
                state, _ = other.record_state(run_id, dataset_ver)
            except RecordAccessError:
                continue
            if state in done:
                return other
        return None

    def adopt(self, planned: PlannedRun, source: ResultStore) -> None:
        """Record ``planned`` by reusing the record of the same run id in ``source`` (another grid's store):
        its history and final record are copied into this store (history first, final last, atomically), with
        this grid's ``grid``, ``grid_version``, ``profile``, ``profile_overrides`` and ``profile_select``, and
        ``reused_from`` naming the grid whose run trained it (the source's own ``reused_from`` when it
        reused one too); every measured value, ``recorded_at`` and the training provenance stay the source's.
        Nothing is trained, so each distinct run of the whole book is trained once.

        Raises:
            ValueError: the source record is not a valid record of ``planned.run_id`` (as :meth:`read_final`).
        """
        run_id = planned.run_id
        final = source.read_final(run_id)
        history = source.read_history(run_id)
        origin = final["reused_from"].iloc[0] if "reused_from" in final else None
        extra = {
            "grid": planned.grid, "grid_version": planned.grid_version, "profile": planned.profile,
            "profile_overrides": planned.overrides_json(), "profile_select": planned.select_json(),
            "reused_from": origin if isinstance(origin, str) and origin else source.grid,
            "reused_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        for key in ("grid", "profile"):
            if key in history:
                history[key] = extra[key]
        _atomic_parquet(type_frame(history), self.history_path(run_id))
        _atomic_parquet(type_frame(final.assign(**extra)), self.final_path(run_id))

    def read_final(self, run_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The final record of ``run_id``, checked to be one record of this run.

        Raises:
            RecordAccessError: the file cannot be read for lack of permission.
            FileNotFoundError, pyarrow.ArrowException, OSError, ValueError: a missing or corrupt file (one
                that is not a regular file, fails its checksums, holds no row or several, has no
                ``status``, or holds another run's record: :class:`RecordMismatchError`).
        """
        path = self.final_path(run_id)
        df = _read_parquet(path)  # every column: every page checksum verified, the run id checked
        _check_final(df, run_id, path)
        return df if columns is None else df[[c for c in columns if c in df]]

    def read_history(self, run_id: str) -> pd.DataFrame:
        """The history of ``run_id``, checked to belong to this run (raises as :meth:`read_final`)."""
        path = self.history_path(run_id)
        df = _read_parquet(path)
        if "run_id" in df:
            _check_run_ids(df["run_id"].unique(), run_id, path)
        return df

    def check_history(self, run_id: str) -> None:
        """Check the history of ``run_id`` as :meth:`read_history` does (every page's checksum, the run
        id), without converting it to pandas; raises as :meth:`read_history`."""
        path = self.history_path(run_id)
        table = _read_table(path)
        if table.num_rows == 0:
            raise RecordMismatchError(f"{path} holds no epoch")
        if "run_id" in table.column_names:
            _check_run_ids(table.column("run_id").unique().to_pylist(), run_id, path)

    def _failed_detail(self, run_id: str) -> str:
        try:
            return self.failed_path(run_id).read_text()[-300:]
        except PermissionError as err:
            raise _access_error(self.failed_path(run_id), err) from None
        except (OSError, ValueError) as err:
            return f"{type(err).__name__}: {err}"

    def record_state(self, run_id: str, dataset_ver: str | None = None) -> tuple[str, str]:
        """``(state, detail)`` of one run's record: one of :data:`STATES`. A record is valid when both of
        its files read in full with their page checksums verified -- the same reads as
        :func:`load_results` -- so status, a sweep and the loaders agree on what is corrupt (see the
        module docstring: one row with a status, this run's id, a history).

        Raises:
            RecordAccessError: a file of the run cannot be read for lack of permission.
        """
        final = self.final_path(run_id)
        if _exists(final):
            try:
                rec = self.read_final(run_id)  # every column: every page checksum verified
            except RecordAccessError:
                raise
            except _ERRORS as err:
                return "corrupt", _corrupt_detail(final, err)
            try:
                self.check_history(run_id)
            except RecordAccessError:
                raise
            except _ERRORS as err:  # reported under the history's own path
                return "corrupt", _corrupt_detail(self.history_path(run_id), err)
            stored = rec["dataset_version"].iloc[0] if "dataset_version" in rec else None
            if dataset_ver is not None and stored is not None and stored != dataset_ver:
                return "stale", f"dataset version {stored} != {dataset_ver}"
            return str(rec["status"].iloc[0]), ""
        if _exists(self.failed_path(run_id)):
            return "failed", self._failed_detail(run_id)
        if _exists(self.checkpoint_path(run_id)):
            return "in_progress", ""
        return "pending", ""


def _corrupt_detail(path: Path, err: Exception) -> str:
    """``PATH: Error: message`` (the path once, even where the message names it too)."""
    text = str(err).replace(f"{path} ", "").replace(str(path), "the file")
    return f"{path}: {type(err).__name__}: {text}"


def unplanned_records(grid: str | Grid, *, root: str | os.PathLike[str] = DEFAULT_ROOT) -> list[str]:
    """Run ids with a record in the store that no profile of ``grid`` plans any more (e.g. the runs of a
    profile whose scale changed): what :func:`prune` removes. Records of runs on an imported substitute
    (``data_copy``) are never listed: which copy is imported depends on the machine, so "not planned here"
    does not mean "not planned"."""
    g = get_grid(grid)
    planned = {r.run_id for p in g.profiles for r in g.expand(p)}
    store = _store(g, root)

    def on_copy(run_id: str) -> bool:
        try:
            value = pd.read_parquet(store.final_path(run_id), columns=["data_copy"])["data_copy"].iloc[0]
        except (OSError, ValueError, KeyError, IndexError):
            return False
        return isinstance(value, str) and bool(value)

    return [r for r in store.run_ids() if r not in planned and not on_copy(r)]


def prune(grid: str | Grid, *, root: str | os.PathLike[str] = DEFAULT_ROOT) -> list[str]:
    """Delete the records (final, history, log, failure marker) of :func:`unplanned_records`; return
    their run ids. Records of planned runs are never touched."""
    store = _store(get_grid(grid), root)
    gone = unplanned_records(grid, root=root)
    for run_id in gone:
        for path in (store.final_path(run_id), store.history_path(run_id), store.log_path(run_id),
                     store.failed_path(run_id)):  # fmt: skip
            path.unlink(missing_ok=True)
    return gone


def _store(grid: str | os.PathLike[str] | Grid, root: str | os.PathLike[str]) -> ResultStore:
    """The store of a grid given as a Grid, a grid file (its ``name``) or a name (the folder name)."""
    if isinstance(grid, Grid):
        return ResultStore(grid.name, Path(root))
    text = str(grid)
    name = get_grid(text).name if text.endswith((".json", ".yaml", ".yml")) else text
    return ResultStore(name, Path(root))


def _read_all(
    store: ResultStore, run_ids: Iterable[str], kind: str, on_corrupt: str
) -> tuple[list[pd.DataFrame], list[str]]:
    """The records (``kind`` ``"final"``: with their history checked too, the one notion of a complete
    record of :meth:`ResultStore.record_state`) of ``run_ids``; corrupt ones warned about or raised."""
    frames, bad = [], []
    for run_id in run_ids:
        path = store.final_path(run_id) if kind == "final" else store.history_path(run_id)
        try:
            if kind == "final":
                frame = store.read_final(run_id)
                path = store.history_path(run_id)
                store.check_history(run_id)
            else:
                frame = store.read_history(run_id)
            frames.append(frame)
        except RecordAccessError:
            raise
        except _ERRORS as err:
            if on_corrupt == "raise":
                raise ValueError(f"corrupt result file {path}: {err}") from err
            warnings.warn(f"corrupt result file {path} excluded: {err}", CorruptRecordWarning, stacklevel=3)
            bad.append(run_id)
    return frames, bad


def load_results(
    grid: str | Grid,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    profile: str | None = None,
    valid_only: bool = False,
    on_corrupt: str = "warn",
) -> pd.DataFrame:
    """The final records of a grid, one row per run (empty frame if none).

    Args:
        grid: grid name (or :class:`Grid`).
        root: results root.
        profile: keep only runs of this profile.
        valid_only: keep only the paper's "valid" runs: completed with training accuracy
            >= :data:`VALID_TRAIN_ACC`.
        on_corrupt: ``"warn"`` (default: a :class:`CorruptRecordWarning` naming the file, the run is
            excluded) or ``"raise"`` (``ValueError``). A record is corrupt as in
            :meth:`ResultStore.record_state`: damaged, another run's, or without its history.

    Raises:
        RecordAccessError: the grid folder or a record cannot be read for lack of permission (a loader
            that cannot see the store says so instead of returning an empty experiment).
    """
    if on_corrupt not in ("warn", "raise"):
        raise ValueError(f"on_corrupt must be 'warn' or 'raise', got {on_corrupt!r}")
    store = _store(grid, root)
    frames, _ = _read_all(store, store.run_ids(), "final", on_corrupt)
    if not frames:
        return pd.DataFrame()
    df = type_frame(pd.concat(frames, ignore_index=True))
    if profile is not None:
        df = df[df["profile"] == profile]
    if valid_only:
        df = df[valid_mask(df, profile) if profile is not None else valid_runs(df, VALID_TRAIN_ACC)]
    return df.sort_values("run_id").reset_index(drop=True)


def load_histories(
    grid: str | Grid,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    profile: str | None = None,
    valid_only: bool = False,
    on_corrupt: str = "warn",
) -> pd.DataFrame:
    """The per-epoch histories of a grid in one frame (``run_id`` column; join with
    :func:`load_results` on it for the hyperparameters). Filters as in :func:`load_results`; runs whose
    final record is missing or corrupt are left out."""
    finals = load_results(grid, root=root, profile=profile, valid_only=valid_only, on_corrupt=on_corrupt)
    if finals.empty:
        return pd.DataFrame()
    store = _store(grid, root)
    frames, _ = _read_all(store, finals["run_id"].tolist(), "history", on_corrupt)
    if not frames:
        return pd.DataFrame()
    return (
        type_frame(pd.concat(frames, ignore_index=True))
        .sort_values(["run_id", "epoch"])
        .reset_index(drop=True)
    )


def sweep_status(
    grid: str | Grid, profile: str = "paper", *, root: str | os.PathLike[str] = DEFAULT_ROOT,
    where: Mapping[str, Iterable[Any]] | None = None, data_root: str | os.PathLike[str] | None = "data",
) -> dict[str, Any]:  # fmt: skip
    """Counts of each state (:data:`STATES`) over the planned runs of ``grid`` at ``profile`` (``where``:
    only a slice; ``data_root``: the data the runs train on; see :meth:`Grid.expand`).

    Returns ``{"total", "counts": {state: n}, "states": {run_id: state}, "problems": {run_id: detail}}``;
    ``problems`` names corrupt files (with their path), stale records and failed runs.
    """
    g = get_grid(grid)
    runs = g.expand(profile, where, data_root)
    store = ResultStore(g.name, Path(root))
    store.run_ids()  # a grid folder that cannot be listed is an error, not "all pending"
    states, problems = {}, {}
    for run in runs:
        state, detail = store.record_state(run.run_id, dataset_version(run.config))
        states[run.run_id] = state
        if detail:
            problems[run.run_id] = detail
    counts = Counter(states.values())
    return {"total": len(runs), "counts": {s: counts.get(s, 0) for s in STATES}, "states": states,
            "problems": problems}  # fmt: skip
