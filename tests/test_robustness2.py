"""Issue 24: robustness, second round. One test (or more) per numbered case; each failed before its fix.

Records that lie about their run (1), repairs that never happen (2, 6), unreadable stores (3, 4, 11), stale
claims (5), orphaned pool workers (7), Ray failures (8), absurd epochs (9), a full disk (10), unwritable
outputs (12), concurrent book pages (13), bad UFM data options (14), numbers that look like results (15),
and the minor cases of 16.

Permission cases run in a subprocess that drops the capabilities letting root read anything, so they hold
for root (as in CI containers) and for any other user alike.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from fixtures_data import flip_data_bytes

from nc_core.__main__ import main
from nc_core.sweep import CorruptRecordWarning, Grid, ResultStore, load_histories, load_results, run_sweep
from nc_core.sweep import sweep_status as status_of

ROOT = Path(__file__).resolve().parents[1]


def ufm_grid(name: str = "qa", **fixed) -> dict:
    """The issue's 4-run UFM grid (sgd/adam x weight decay 0/0.01), shrunk to train in well under a second."""
    return {
        "name": name,
        "version": 1,
        "fixed": {
            "model": "ufm",
            "dataset": "ufm",
            "data_kwargs": {"num_samples": 40, "num_classes": 4},
            "model_kwargs": {"feature_dim": 8},
            "epochs": 3,
            "batch_size": 20,
            "metric_every": 1,
            "metric_log_points": 0,
            "lr": 0.05,
            **fixed,
        },  # fmt: skip
        "blocks": [{"name": "b", "axes": {"optimizer": ["sgd", "adam"], "weight_decay": [0.0, 0.01]}}],
    }


@pytest.fixture
def swept(tmp_path: Path) -> tuple[Grid, Path, ResultStore, Path]:
    """The UFM grid, swept once at the paper profile: ``(grid, root, store, grid file)``."""
    spec = ufm_grid()
    grid_file = tmp_path / "qa.json"
    grid_file.write_text(json.dumps(spec))
    grid, root = Grid.from_dict(spec), tmp_path / "results"
    out = run_sweep(grid, "paper", root=root, progress=False)
    assert out["statuses"] == {"completed": 4}
    return grid, root, ResultStore("qa", root), grid_file


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def _set_aside(store: ResultStore) -> list[str]:
    return sorted(p.name for p in store.folder.glob("*.corrupt-*"))


# -- 1. a record holding another run's data --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["final", "history"])
def test_1_another_runs_record_under_a_run_id_is_corruption_named_and_rerun(swept, capsys, kind):
    grid, root, store, grid_file = swept
    a, b = store.run_ids()[:2]
    path = store.final_path(b) if kind == "final" else store.history_path(b)
    shutil.copy(store.final_path(a) if kind == "final" else store.history_path(a), path)

    st = status_of(grid, "paper", root=root)
    assert st["states"][b] == "corrupt" and st["problems"][b].startswith(str(path))
    assert a in st["problems"][b] and st["counts"]["completed"] == 3
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        finals = load_results("qa", root=root)
    assert finals["run_id"].is_unique and b not in set(finals["run_id"]) and len(finals) == 3
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        hist = load_histories("qa", root=root)
    assert set(hist["run_id"]) == set(store.run_ids()) - {b}  # A's history is never returned under B

    code, out = _cli(capsys, "sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root),
                     "--no-progress")  # fmt: skip
    assert code == 0 and "ran 1 of 1" in out and "Traceback" not in out
    assert path.name in [n.split(".corrupt-")[0] for n in _set_aside(store)]  # kept for inspection
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = load_results("qa", root=root).set_index("run_id")
        hist = load_histories("qa", root=root)
    assert len(again) == 4 and set(hist.loc[hist["run_id"] == b, "run_id"]) == {b}
    assert status_of(grid, "paper", root=root)["counts"]["completed"] == 4


# -- 2. a corrupt record with a future modification time ------------------------------------------------


def test_2_a_corrupt_record_dated_in_the_future_is_repaired(swept, capsys):
    grid, root, store, grid_file = swept
    victim = store.run_ids()[0]
    path = store.final_path(victim)
    flip_data_bytes(path)
    tomorrow = time.time() + 86400
    os.utime(path, (tomorrow, tomorrow))  # clock skew, `cp -p`, NFS
    assert status_of(grid, "paper", root=root)["states"][victim] == "corrupt"
    argv = ("sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root), "--no-progress")
    code, out = _cli(capsys, *argv)
    assert code == 0 and "done elsewhere" not in out and "1 completed" in out
    assert status_of(grid, "paper", root=root)["states"][victim] == "completed"
    code, out = _cli(capsys, *argv)  # and it stays repaired
    assert code == 0 and "ran 0 of 0" in out


# -- 3, 4, 11. unreadable records and folders -----------------------------------------------------------

#: Run in a subprocess first: root reads and writes anything, so drop the capabilities that let it
#: (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); any other user is already bound by the permission bits.
_AS_A_USER = """
import ctypes, os
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]
    header, data = Header(0x20080522, 0), (Data * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0
    for bit in (1, 2):
        data[0].effective &= ~(1 << bit)
        data[0].permitted &= ~(1 << bit)
    assert libc.capset(ctypes.byref(header), data) == 0
"""


def _as_a_user(code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (Python) in a subprocess bound by file permissions, whoever runs the tests."""
    return subprocess.run([sys.executable, "-c", _AS_A_USER + code], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


def test_3_an_unreadable_record_is_an_error_naming_it_and_never_replaced(swept):
    grid, root, store, grid_file = swept
    victim = store.run_ids()[0]
    path = store.final_path(victim)
    before = path.read_bytes()
    path.chmod(0)
    try:
        proc = _as_a_user(f"""
import json, sys
from nc_core.__main__ import main
from nc_core.sweep import load_results, sweep_status
from nc_core.sweep.store import RecordAccessError
out = {{}}
for name, call in (("status", lambda: sweep_status({str(grid_file)!r}, "paper", root={str(root)!r})),
                   ("load", lambda: load_results("qa", root={str(root)!r}))):
    try:
        call()
        out[name] = "no error"
    except RecordAccessError as err:
        out[name] = str(err)
base = ["--profile", "paper", "--root", {str(root)!r}]
out["cli_status"] = main(["sweep", "status", {str(grid_file)!r}, *base])
out["cli_run"] = main(["sweep", "run", {str(grid_file)!r}, *base, "--no-progress"])
print(json.dumps(out))
""")
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        path.chmod(0o644)
    for key in ("status", "load"):
        assert out[key].startswith(f"cannot read {path}: Permission denied"), out
    assert out["cli_status"] == 2 and out["cli_run"] == 2
    assert proc.stderr.count(f"error: cannot read {path}") == 2 and "Traceback" not in proc.stderr
    assert path.read_bytes() == before and not _set_aside(store)  # never replaced, never set aside


def test_4_and_11_an_unreadable_grid_folder_or_unwritable_working_folder_is_named(swept):
    grid, root, store, grid_file = swept
    (store.folder / "claims").mkdir(exist_ok=True)
    try:
        store.folder.chmod(0)
        proc = _as_a_user(f"""
import json, os
from nc_core.__main__ import main
from nc_core.sweep import load_results
out = {{}}
try:
    out["rows"] = len(load_results("qa", root={str(root)!r}))
except ValueError as err:
    out["load"] = str(err)
base = ["--profile", "paper", "--root", {str(root)!r}]
out["cli_status"] = main(["sweep", "status", {str(grid_file)!r}, *base])
os.chmod({str(store.folder)!r}, 0o755)
for sub in ("logs", "claims"):
    os.chmod(os.path.join({str(store.folder)!r}, sub), 0o555)
    out["cli_run_" + sub] = main(["sweep", "run", {str(grid_file)!r}, *base, "--no-progress"])
    os.chmod(os.path.join({str(store.folder)!r}, sub), 0o755)
print(json.dumps(out))
""")
    finally:
        store.folder.chmod(0o755)
        for sub in ("logs", "claims"):
            (store.folder / sub).chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "rows" not in out and out["load"].startswith(f"cannot read {store.folder}: Permission denied")
    assert out["cli_status"] == 2 and f"error: cannot read {store.folder}" in proc.stderr
    assert out["cli_run_logs"] == 2 and f"cannot write to {store.folder / 'logs'}" in proc.stderr
    assert out["cli_run_claims"] == 2 and f"cannot write to {store.folder / 'claims'}" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- 5. stale claims --------------------------------------------------------------------------------------


def test_5_a_claim_whose_pid_was_reused_or_that_is_days_old_blocks_nothing(tmp_path):
    spec = ufm_grid()
    grid, root = Grid.from_dict(spec), tmp_path / "results"
    store = ResultStore("qa", root)
    runs = grid.expand("paper")
    store.claim_path(runs[0].run_id).parent.mkdir(parents=True)
    # the claim: this host, pid 1 (alive: another process now), no start time, three days old
    old = store.claim_path(runs[0].run_id)
    old.write_text(json.dumps({"host": socket.gethostname(), "pid": 1}))
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    # a claim naming a live pid whose process started at another time: the pid was reused
    reused = store.claim_path(runs[1].run_id)
    reused.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getppid(), "start": 1}))
    out = run_sweep(grid, "paper", root=root, progress=False)
    assert out["statuses"] == {"completed": 4}
    assert status_of(grid, "paper", root=root)["counts"]["completed"] == 4
    assert not list(store.claim_path("x").parent.glob("*.claim"))


def test_5_a_live_owners_claim_holds_and_an_unverifiable_one_expires(tmp_path):
    store = ResultStore("qa", tmp_path)
    assert store.claim("mine")
    owner = json.loads(store.claim_path("mine").read_text())
    assert owner["pid"] == os.getpid() and owner["start"] and owner["boot"]
    assert not store.claim("mine")  # verified alive: held, however old
    os.utime(store.claim_path("mine"), (time.time() - 30 * 86400,) * 2)
    assert not store.claim("mine")
    # a fresh claim from a live pid without a start time (an older claim format) is honoured ...
    store.claim_path("old").write_text(json.dumps({"host": socket.gethostname(), "pid": os.getppid()}))
    assert not store.claim("old")
    os.utime(store.claim_path("old"), (time.time() - 2 * 3600,) * 2)  # ... until it stops being refreshed
    assert store.claim("old")
    store.release("old")
    # the owner's heartbeat keeps its claim fresh
    assert store.claim("beat")
    os.utime(store.claim_path("beat"), (time.time() - 2 * 3600,) * 2)
    with store.heartbeat("beat", every=0.05):
        time.sleep(0.3)
    assert time.time() - store.claim_path("beat").stat().st_mtime < 60


def test_5_a_claim_is_never_seen_half_written(tmp_path, monkeypatch):
    """A sweep killed while claiming left an empty claim that blocked its run for a minute ("1 claimed
    elsewhere" after a SIGKILL): a claim now appears in place whole (written aside, then hard-linked)."""
    store = ResultStore("qa", tmp_path)
    assert store.claim("a") and not store.claim("a")
    assert json.loads(store.claim_path("a").read_text())["pid"] == os.getpid()
    monkeypatch.setattr(os, "link", lambda *a: (_ for _ in ()).throw(PermissionError(1, "no hard links")))
    assert store.claim("b") and not store.claim("b")  # where hard links are not supported
    assert json.loads(store.claim_path("b").read_text())["pid"] == os.getpid()
    assert sorted(p.name for p in store.claim_path("a").parent.iterdir()) == ["a.claim", "b.claim"]


# -- 6. readable but malformed final records --------------------------------------------------------------


@pytest.mark.parametrize("damage", ["zero rows", "no status column", "a directory"])
def test_6_a_malformed_final_record_is_named_set_aside_and_rerun(swept, capsys, damage):
    grid, root, store, grid_file = swept
    victim = store.run_ids()[0]
    path = store.final_path(victim)
    rec = pd.read_parquet(path)
    path.unlink()
    if damage == "zero rows":
        rec.iloc[:0].to_parquet(path)
    elif damage == "no status column":
        rec.drop(columns=["status"]).to_parquet(path)
    else:
        path.mkdir()
    base = ("--profile", "paper", "--root", str(root))
    code, out = _cli(capsys, "sweep", "status", str(grid_file), *base)
    assert code == 0 and "1 corrupt" in out and str(path) in out and "Traceback" not in out
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        assert victim not in set(load_results("qa", root=root)["run_id"])
    code, out = _cli(capsys, "sweep", "run", str(grid_file), *base, "--no-progress")
    assert code == 0 and "ran 1 of 1 to do (1 completed)" in out and "Traceback" not in out
    assert path.name in [n.split(".corrupt-")[0] for n in _set_aside(store)]  # kept for inspection
    assert status_of(grid, "paper", root=root)["counts"]["completed"] == 4


# -- 7. pool workers die with their parent ----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """The pool workers (spawned ``multiprocessing`` processes) whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid and "spawn_main" in cmdline:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has exited (some containers never reap them)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_7_pool_workers_die_with_their_parent(tmp_path, sig):
    spec = ufm_grid(epochs=1_000_000, metric_every=None)  # runs that would train for hours
    grid_file = tmp_path / "qa.json"
    grid_file.write_text(json.dumps(spec))
    root = tmp_path / "results"
    cmd = [sys.executable, "-m", "nc_core", "sweep", "run", str(grid_file), "--profile", "paper", "--root",
           str(root), "--no-progress", "--workers", "2", "--threads", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        logs = root / "qa" / "logs"
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) == 2 and logs.is_dir() and len(list(logs.glob("*.log"))) == 2:
                break  # both workers are training
            time.sleep(0.2)
        assert len(workers) == 2, "the pool did not start"
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_alive, workers)), "a pool worker outlived its parent"
    finally:
        for pid in [proc.pid, *workers]:  # only the processes this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    # what they trained is resumable: checkpoints stay, claims name dead processes
    store = ResultStore("qa", root)
    assert all(store.claim(r.run_id) for r in Grid.from_dict(spec).expand("paper"))


# -- 8. Ray -----------------------------------------------------------------------------------------------


def test_8_impossible_or_unreachable_ray_requests_are_refused_up_front(swept, capsys):
    grid, root, store, grid_file = swept
    base = ("sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root), "--backend", "ray",
            "--no-progress")  # fmt: skip
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cases = [
        (["--ray-num-cpus", "2", "--cpus-per-run", "4"], "--cpus-per-run 4 exceeds the 2 CPU(s)"),
        (["--ray-address", f"127.0.0.1:{port}"], f"cannot reach the Ray cluster at 127.0.0.1:{port}"),
        (["--ray-address", "nonsense"], "expected 'auto' or HOST:PORT"),
    ]
    for extra, message in cases:
        t0 = time.monotonic()
        code, out = _cli(capsys, *base, *extra)
        assert code == 2 and message in out and "Traceback" not in out, (extra, out)
        assert time.monotonic() - t0 < 10


def test_8_ray_address_auto_without_a_cluster_is_one_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    gcs = [c for c in Path("/proc").glob("[0-9]*/cmdline") if b"gcs_server" in _read_bytes(c)]
    if gcs or Path("/tmp/ray/ray_current_cluster").exists():  # "auto" would rightly find it
        pytest.skip("a Ray cluster runs on this machine")
    grid_file = tmp_path / "qa.json"
    grid_file.write_text(json.dumps(ufm_grid()))
    code, out = _cli(capsys, "sweep", "run", str(grid_file), "--profile", "paper", "--root",
                     str(tmp_path / "results"), "--backend", "ray", "--ray-address", "auto")  # fmt: skip
    assert code == 2 and "no Ray cluster is running at --ray-address auto" in out, out
    assert "Traceback" not in out and "`--address`" not in out  # not Ray's own flag


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


class _Ref:
    """A task's result to come (hashable, as Ray's object refs are)."""

    def __init__(self, fn, run, kwargs) -> None:
        self.fn, self.run, self.kwargs = fn, run, kwargs


class _FakeRay:
    """Just enough of Ray for ``_ray_tasks``: tasks run in this process; one run's worker always dies."""

    class exceptions:  # noqa: N801 - mirrors ray.exceptions
        class RayError(Exception):
            pass

        class WorkerCrashedError(RayError):
            pass

    def __init__(self, crash: str) -> None:
        self.crash = crash

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def remote(self, **options):
        class Task:
            def __init__(self, fn):
                self.fn = fn

            def remote(self, run, **kwargs):
                return _Ref(self.fn, run, kwargs)

        return Task

    def wait(self, pending, num_returns=1):
        return pending[:num_returns], pending[num_returns:]

    def get(self, ref):
        fn, run, kwargs = ref.fn, ref.run, ref.kwargs
        if run.run_id == self.crash:
            raise self.exceptions.WorkerCrashedError(
                "The worker died unexpectedly while executing this task."
            )
        return fn(run, **kwargs)


def test_8_a_run_whose_ray_worker_keeps_crashing_fails_alone(tmp_path, monkeypatch):
    spec = ufm_grid()
    grid, root = Grid.from_dict(spec), tmp_path / "results"
    crash = grid.expand("paper")[2].run_id
    monkeypatch.setitem(sys.modules, "ray", _FakeRay(crash))
    out = run_sweep(grid, "paper", root=root, backend="ray", progress=False)
    assert out["statuses"] == {"completed": 3, "failed": 1}
    st = status_of(grid, "paper", root=root)
    assert st["states"][crash] == "failed" and "WorkerCrashedError" in st["problems"][crash]


# -- 9. absurd epoch counts -------------------------------------------------------------------------------


def test_9_the_metric_schedule_is_lazy_and_a_long_run_allocates_nothing_up_front(monkeypatch):
    import tracemalloc

    from nc_core.train import RunConfig, engine, run_training
    from nc_core.train.schedule import MetricSchedule, metric_epochs

    t0 = time.perf_counter()
    huge = MetricSchedule(10**9, every=10, log_points=8)
    assert 10**9 in huge and 20 in huge and 0 in huge and 25 not in huge and 10**9 + 10 not in huge
    assert len(huge) == 10**8 + 7 and time.perf_counter() - t0 < 0.1
    assert list(MetricSchedule(200, every=None, log_points=4)) == metric_epochs(200, log_points=4)

    class StopError(Exception):
        pass

    def first_epoch(*args, **kwargs):
        raise StopError

    monkeypatch.setattr(engine, "_train_epoch", first_epoch)
    ufm = {"data_kwargs": {"num_samples": 40, "num_classes": 4}, "model_kwargs": {"feature_dim": 8}}
    config = RunConfig(model="ufm", dataset="ufm", epochs=10**6, metric_every=1, metric_log_points=0, **ufm)
    tracemalloc.start()
    try:
        with pytest.raises(StopError):
            run_training(config, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB allocated before the first epoch"


# -- 10. a full disk ----------------------------------------------------------------------------------------


def test_10_a_full_disk_is_one_line_naming_the_folder_and_the_run_stays_resumable(
    tmp_path, monkeypatch, capsys
):
    import errno

    import torch

    spec = ufm_grid()
    spec["blocks"][0]["axes"] = {"optimizer": ["sgd"], "weight_decay": [0.0]}
    grid_file = tmp_path / "qa.json"
    grid_file.write_text(json.dumps(spec))
    root = tmp_path / "results"
    store = ResultStore("qa", root)
    real_save, saves = torch.save, []

    def full_after_one(obj, f, *args, **kwargs):  # the disk fills up after the first checkpoint
        saves.append(f)
        if len(saves) == 1:
            return real_save(obj, f, *args, **kwargs)
        with open("/dev/full", "wb") as fh:  # a real ENOSPC
            return real_save(obj, fh, *args, **kwargs)

    real_write_text = Path.write_text

    def no_space(self, *args, **kwargs):
        if self.parent.name == "failed":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_after_one)
    monkeypatch.setattr(Path, "write_text", no_space)
    argv = ("sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root), "--no-progress")
    code, out = _cli(capsys, *argv)
    assert code == 1 and f"disk full at {store.checkpoint_dir}" in out, out
    assert "Traceback" not in out and "unexpected pos" not in out
    (run_id,) = [r.run_id for r in Grid.from_dict(spec).expand("paper")]
    assert status_of(grid_file, "paper", root=root)["states"][run_id] == "in_progress"  # resumable
    monkeypatch.undo()  # space again
    code, out = _cli(capsys, *argv)
    assert code == 0 and "1 completed" in out
    assert "resuming from checkpoint" in store.log_path(run_id).read_text()


# -- 12. train --out with an unwritable run folder ---------------------------------------------------------


def test_12_train_checks_its_output_folder_before_training(tmp_path):
    from nc_core.train import RunConfig

    fields = {"model": "ufm", "dataset": "ufm", "data_kwargs": {"num_samples": 40, "num_classes": 4},
              "model_kwargs": {"feature_dim": 8}, "epochs": 2}  # fmt: skip
    run_id = RunConfig(**fields).run_id
    out = tmp_path / "out"
    (out / run_id).mkdir(parents=True)
    (out / run_id).chmod(0o555)
    argv = ["train", "--model", "ufm", "--dataset", "ufm", "--data-kwargs", json.dumps(fields["data_kwargs"]),
            "--model-kwargs", json.dumps(fields["model_kwargs"]), "--epochs", "2", "--no-progress",
            "--out", str(out)]  # fmt: skip
    try:
        proc = _as_a_user(f"""
import sys
from nc_core.__main__ import main
sys.exit(main({argv!r}))
""")
    finally:
        (out / run_id).chmod(0o755)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot write to {out / run_id}" in proc.stderr and "Traceback" not in proc.stderr
    assert "completed after" not in proc.stdout  # refused before training


# -- 13. two executions of one book page at once ------------------------------------------------------------


def test_13_two_executions_of_a_page_into_one_folder_share_no_file(tmp_path, monkeypatch):
    import threading

    import nbformat

    from nc_core.book import execute
    from nc_core.book.chapters import CHAPTERS

    chapter = next(c for c in CHAPTERS if not c.variants)
    barrier = threading.Barrier(2)

    def fake_papermill(notebook, output, **kwargs):  # both runs write their output, then finish together
        nb = nbformat.read(notebook, as_version=4)
        nb.metadata["papermill"] = {"start_time": None, "end_time": None, "duration": 0.1}
        nbformat.write(nb, output)
        barrier.wait(timeout=30)
        time.sleep(0.05)

    monkeypatch.setattr(execute.papermill, "execute_notebook", fake_papermill)
    monkeypatch.setattr(execute, "git_commit", lambda: "test")
    errors: list[BaseException] = []

    def one() -> None:
        try:
            execute.execute_chapter(chapter, "cpu", tmp_path, progress=False)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    page = chapter.page(None)
    assert (tmp_path / f"{page}.ipynb").exists()
    assert not list(tmp_path.glob(".*running*")) and not list(tmp_path.rglob(".*.runs.jsonl.*"))


# -- 14. the UFM's data options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_kwargs", "message"),
    [
        (None, "dataset 'ufm' needs data_kwargs ['num_samples', 'num_classes']"),
        ('{"bogus": 1}', "dataset 'ufm': unknown data_kwargs ['bogus']"),
        (
            '{"num_samples": "500", "num_classes": 10}',
            "data_kwargs num_samples must be an integer, got '500'",
        ),
    ],
)
def test_14_bad_ufm_data_options_are_one_line(tmp_path, capsys, data_kwargs, message):
    argv = [
        "train",
        "--model",
        "ufm",
        "--dataset",
        "ufm",
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    if data_kwargs is not None:
        argv += ["--data-kwargs", data_kwargs]
    code, out = _cli(capsys, *argv)
    assert code == 2 and message in out and "Traceback" not in out


# -- 15. numbers that look like results ---------------------------------------------------------------------


def test_15_undefined_metrics_are_errors_or_nan_never_numbers():
    import torch

    from nc_core.metrics import FeatureAccumulator, metrics_from_stats, nc_metrics
    from nc_core.metrics.accumulator import DegenerateWeightError

    torch.manual_seed(0)
    K, p = 4, 6
    W = torch.randn(K, p, dtype=torch.float64)
    one_each = nc_metrics(torch.randn(K, p, dtype=torch.float64), torch.arange(K), W)
    assert one_each["NC1"] != one_each["NC1"]  # NaN: not 0, which reads as perfect collapse
    assert one_each["NC2"] == one_each["NC2"] and one_each["NC3"] == one_each["NC3"]  # the rest are defined
    h, y = torch.randn(40, p, dtype=torch.float64), torch.arange(40) % K
    with pytest.raises(DegenerateWeightError, match="W is all zero"):
        nc_metrics(h, y, torch.zeros(K, p))
    acc = FeatureAccumulator(K)
    acc.update(h, y)
    stats = acc.finalize()
    zero = metrics_from_stats(stats, torch.zeros(K, p), zero_weight="nan")  # the training loop's reading
    assert all(zero[k] != zero[k] for k in ("NC2W", "NC2Wn", "NC2Wa", "NC2M", "NC3"))
    assert zero["NC1"] == pytest.approx(nc_metrics(h, y, W)["NC1"]) and zero["NC0"] == 0.0
    for bad in (7.0, -0.1):
        with pytest.raises(ValueError, match="rate in"):
            metrics_from_stats(stats, W, nc4=bad)
    with pytest.raises(ValueError, match="rate in"):
        metrics_from_stats(stats, W, nc4_centred=1.5)
    # scale invariant: features around 1e200 give the metrics of the same features at unit size
    base, big = nc_metrics(h, y, W), nc_metrics(h * 1e200, y, W)
    for key in ("NC1", "NC2", "NC2n", "NC2a", "NC2M", "NC3", "NC4", "NC4_centred"):
        assert big[key] == pytest.approx(base[key], rel=1e-9), key


def test_15_train_with_one_sample_per_class_reports_nc1_undefined(tmp_path, capsys):
    argv = ["train", "--model", "mlp", "--dataset", "gaussian", "--subset-per-class", "1", "--epochs", "1",
            "--data-kwargs", '{"num_classes": 4, "dim": 8}', "--model-kwargs", '{"hidden": [16]}',
            "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    code, out = _cli(capsys, *argv)
    assert code == 0 and "NC1 nan" in out and "NC1 0," not in out and "NC1 is undefined" in out
    (final,) = tmp_path.glob("*/final.json")
    record = json.loads(final.read_text())
    assert record["NC1"] is None or record["NC1"] != record["NC1"]  # NaN (JSON NaN) or null: undefined
    assert isinstance(record["NC2"], float) and record["NC2"] == record["NC2"]  # measured, and kept


# -- 16. the minor cases -----------------------------------------------------------------------------------


def test_16_grid_files_with_duplicate_keys_or_garbage_are_named_errors(tmp_path, capsys):
    pytest.importorskip("yaml")
    dup_yaml = tmp_path / "dup.yaml"
    dup_yaml.write_text("name: qa\nversion: 1\nname: other\nblocks: []\n")
    dup_json = tmp_path / "dup.json"
    dup_json.write_text('{"name": "qa", "name": "other", "blocks": []}')
    noise = tmp_path / "noise.yaml"
    noise.write_bytes(bytes(range(256)) * 64)
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(50 * 2**20)  # sparse: 50 MB on paper
    cases = [(dup_yaml, "duplicate key 'name'"), (dup_json, "duplicate key 'name'"),
             (noise, "is not UTF-8 text"), (big, "50.0 MiB")]  # fmt: skip
    for path, message in cases:
        code, out = _cli(capsys, "sweep", "plan", str(path), "--profile", "paper")
        assert code == 2 and str(path) in out and message in out and "Traceback" not in out, out


def test_16_a_dangling_symlink_root_is_named(tmp_path, capsys):
    grid_file = tmp_path / "qa.json"
    grid_file.write_text(json.dumps(ufm_grid()))
    root = tmp_path / "results"
    root.symlink_to(tmp_path / "gone")
    code, out = _cli(capsys, "sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root))
    assert code == 2 and f"{root} is a symbolic link to {tmp_path / 'gone'}, which does not exist" in out
    assert "File exists" not in out


def test_16_a_run_without_its_history_is_incomplete_for_loaders_and_status_alike(swept):
    grid, root, store, grid_file = swept
    victim = store.run_ids()[0]
    store.history_path(victim).unlink()
    assert status_of(grid, "paper", root=root)["states"][victim] == "corrupt"
    with pytest.warns(CorruptRecordWarning, match=str(store.history_path(victim))):
        finals = load_results("qa", root=root)
    assert victim not in set(finals["run_id"]) and len(finals) == 3
