"""Execute the chapter notebooks with papermill at a profile; the book is then built without
executing anything (``_config.yml``: ``execute_notebooks: off``).

After papermill, the executed notebook is prepared for the reader: its parameter cells give way to a box
with the parameters and the commands that re-run the page (:mod:`nc_core.book.layout`), and the run is
recorded for the execution status page (:mod:`nc_core.book.status`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import papermill

from ..plots import RUNS_RECORD_ENV
from ..provenance import git_commit
from . import status
from .chapters import REPO_ROOT, Chapter, Variant, execution_order, page_data, prerequisites
from .layout import present_parameters, repo_relative

__all__ = ["GENERATED", "PAGES_ENV", "PageJob", "execute_chapter", "execute_pages", "waiting_on"]

GENERATED = REPO_ROOT / "book" / "generated"
#: Where the page being executed is written (links from the page, e.g. to a figure's data, start there).
PAGES_ENV = "NC_CORE_BOOK_PAGES"


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables (inherited by papermill's kernel) for the duration of the block."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def rerun_command(page: str, profile: str, out_dir: Path = GENERATED, flags: tuple[str, ...] = ()) -> str:
    """The ``nc_core`` command that re-runs ``page`` at ``profile`` into ``out_dir``."""
    parts = ["python -m nc_core book execute", page, "--profile", profile, *flags]
    if Path(out_dir).resolve() != GENERATED:
        parts += ["--out", repo_relative(out_dir)]
    return " ".join(parts)


def execute_chapter(
    chapter: Chapter,
    profile: str,
    out_dir: Path = GENERATED,
    *,
    progress: bool = True,
    parameters: dict[str, Any] | None = None,
    variant: Variant | None = None,
    rerun_flags: tuple[str, ...] | None = None,
) -> Path:
    """Run ``chapter``'s notebook at ``profile`` into ``out_dir/<page>.ipynb``; return that path.

    ``variant`` adds its parameters (e.g. another architecture and dataset) and its title to the page's
    heading; ``parameters`` override both the profile's and the variant's (e.g. ``results_root`` for a
    throw-away results store). The page shows its parameters and the commands that re-run it: papermill's
    with exactly these parameters, and ``python -m nc_core book execute PAGE --profile P`` with
    ``rerun_flags``, the flags that set ``parameters`` (e.g. ``("--fresh",)``; ``None``: that command is
    shown only where there are no ``parameters``, which it could not set). Its record for the status page
    is written to ``out_dir/status/<page>.json`` (also when it fails).

    The notebook runs with the repository root as working directory (so ``data/`` resolves) and
    ``NC_CORE_GIT_COMMIT`` set, so its provenance cell names the commit even from a copy. A failing
    cell raises ``papermill.PapermillExecutionError`` naming the cell; the partial output is kept
    next to the target as ``<name>.failed.ipynb`` for inspection.

    Two executions of the same page into the same folder at once never share a file: each runs into its
    own temporary notebook (and its own runs record), moved into place with ``os.replace`` when done (the
    last to finish wins, like the project's atomic writes).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    page = chapter.page(variant)
    target = out_dir / f"{page}.ipynb"
    partial = out_dir / f"{page}.failed.ipynb"
    unique = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
    running = out_dir / f".{page}.{unique}.running.ipynb"  # this execution's own notebook until it is done
    params = {**chapter.parameters(profile), **(variant.parameters if variant else {}), **(parameters or {})}
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())
    if rerun_flags is None:
        rerun_flags = None if parameters else ()
    rerun = None if rerun_flags is None else rerun_command(page, profile, out_dir, rerun_flags)
    shared_runs = status.runs_file(out_dir, page)
    runs = shared_runs.with_name(f".{shared_runs.name}.{unique}")  # this execution's own runs record
    runs.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "page": page, "chapter": chapter.name, "variant": variant.key if variant else "",
        "notebook": repo_relative(chapter.notebook), "profile": profile,
        "parameters": params, "commit": os.environ["NC_CORE_GIT_COMMIT"], "rerun": rerun,
        "papermill": papermill.__version__,
        # the data the page reads ("no data": its dataset is not here, the page says so and shows nothing)
        "data": page_data(variant, Path(params.get("data_root", REPO_ROOT / "data"))),
    }  # fmt: skip
    start = time.perf_counter()
    try:
        with _environment(**{RUNS_RECORD_ENV: str(runs), PAGES_ENV: str(out_dir.resolve())}):
            papermill.execute_notebook(
                chapter.notebook, running, parameters=params,
                kernel_name="python3", cwd=str(REPO_ROOT), progress_bar=progress,
            )  # fmt: skip
    except Exception as err:
        kept = partial
        try:
            os.replace(running, partial)
        except FileNotFoundError:  # papermill failed before writing anything
            kept = running
        print(f"{page}: failed at profile {profile!r}; partial output in {partial}")
        _record(out_dir, record, kept, runs, time.perf_counter() - start, error=err)
        raise
    try:
        if variant is not None:
            _add_to_title(running, variant.title)
        present_parameters(running, chapter.notebook, profile=profile, rerun=rerun)
        os.replace(running, target)
    finally:
        running.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    _record(out_dir, record, target, runs, seconds)
    print(f"{page}: executed at profile {profile!r} in {seconds:.0f} s -> {target}")
    return target


def _record(
    out_dir: Path,
    record: dict[str, Any],
    notebook: Path,
    runs: Path,
    seconds: float,
    error: Exception | None = None,
) -> None:
    """Complete a page's status record with papermill's timing and the runs the page read, and write it."""
    try:
        meta = nbformat.read(notebook, as_version=4).metadata.get("papermill", {})
    except (OSError, ValueError):  # papermill failed before writing anything
        meta = {}
    started = meta.get("start_time")
    record.update(
        started=started,
        finished=meta.get("end_time"),
        seconds=meta.get("duration") or round(seconds, 1),
        result="failed" if error else "executed",
        runs=status.summarise_runs(runs, started),
    )
    if error is not None:
        lines = str(error).strip().splitlines()
        record["error"] = lines[-1][:300] if lines else type(error).__name__
    status.write_record(out_dir, record)
    runs.unlink(missing_ok=True)


def _add_to_title(path: Path, suffix: str) -> None:
    """Append ``: suffix`` to the notebook's title (the first line of its first markdown cell)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown")
    first, _, rest = cell.source.partition("\n")
    if not first.startswith("# "):
        raise ValueError(f"{path}: the first markdown cell must start with the title ('# ...')")
    cell.source = f"{first}: {suffix}\n{rest}"
    nbformat.write(nb, path)


#: One page to execute: its chapter, variant, extra parameters and re-run flags (see :func:`execute_chapter`).
PageJob = tuple[Chapter, Variant | None, dict[str, Any], tuple[str, ...] | None]


def _execute_job(
    job: PageJob, profile: str, out_dir: Path, progress: bool, threads: int | None
) -> str | None:
    """Execute one page; ``None`` when it ran, else the last line of its error. ``threads``: the CPUs the page
    may use, set through the environment its kernel inherits: the torch / BLAS threads of the kernel (a
    user's setting wins) and the training processes of its sweeps
    (:data:`nc_core.sweep.collect.PAGE_CPUS_ENV`)."""
    from ..sweep.collect import PAGE_CPUS_ENV  # here: importing the sweeps (torch) is a worker's cost only

    chapter, variant, parameters, flags = job
    if threads is not None:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(threads))
        os.environ[PAGE_CPUS_ENV] = str(threads)
    try:
        execute_chapter(chapter, profile, out_dir, progress=progress, variant=variant, parameters=parameters,
                        rerun_flags=flags)  # fmt: skip
    except Exception as err:  # noqa: BLE001 - reported by page; the partial notebook is kept
        lines = str(err).strip().splitlines()
        return lines[-1][:300] if lines else type(err).__name__
    return None


def waiting_on(i: int, needs: list[set[int]]) -> set[int]:
    """The positions that wait for position ``i``, directly or through others (``needs`` as from
    :func:`~nc_core.book.chapters.prerequisites`)."""
    found: set[int] = set()
    frontier = {i}
    while frontier:
        frontier = {j for j, n in enumerate(needs) if n & frontier} - found
        found |= frontier
    return found


def execute_pages(
    jobs: list[PageJob],
    profile: str,
    out_dir: Path = GENERATED,
    *,
    workers: int = 1,
    after_each: Callable[[], None] = lambda: None,
) -> dict[str, str]:
    """Execute ``jobs`` (pages) at ``profile``, ``workers`` at a time, each page only once the pages it needs
    (:func:`~nc_core.book.chapters.prerequisites`) have run; ``after_each()`` is called after every page.

    With one worker the pages run one after the other in this process (with papermill's progress bar), in
    the given order where it allows (:func:`~nc_core.book.chapters.execution_order`); with more, each in a
    process of a pool, the pages most others wait for first (:func:`waiting_on`), each with ``cpu_count //
    workers`` CPUs (kernel threads and training processes). A failing page does not stop the pages already
    running; no page starts after a failure. Returns ``{page: error}`` of the failed pages (empty when
    every page ran).

    Raises:
        ValueError: ``workers < 1``, or pages that wait for each other in a cycle (before any page runs).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    needs = prerequisites([(c, v) for c, v, _, _ in jobs])
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())  # once, inherited by every worker
    failed: dict[str, str] = {}
    if workers == 1:
        for i in execution_order(needs, [c.page(v) for c, v, _, _ in jobs]):
            if failed:
                break
            job = jobs[i]
            if (error := _execute_job(job, profile, out_dir, True, None)) is not None:
                failed[job[0].page(job[1])] = error
            after_each()
        return failed
    done: set[int] = set()
    threads = max(1, (os.cpu_count() or 1) // workers)
    running: dict[Future[str | None], int] = {}
    # pages that others wait for start first (the most waiting pages first), else in the given order
    waiting = sorted(range(len(jobs)), key=lambda i: -len(waiting_on(i, needs)))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        while waiting or running:
            ready = [i for i in waiting if needs[i] <= done] if not failed else []
            for i in ready[: workers - len(running)]:
                waiting.remove(i)
                running[pool.submit(_execute_job, jobs[i], profile, out_dir, False, threads)] = i
            if not running:
                break  # after a failure, nothing more starts
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                if (error := future.result()) is not None:
                    failed[jobs[i][0].page(jobs[i][1])] = error
                done.add(i)
                after_each()
    return failed
