"""The book's execution status page, generated from what the build recorded (never typed by hand).

* ``python -m nc_core book execute`` writes one JSON record per page (:func:`write_record`, under
  ``book/generated/status/``): the profile and parameters, when papermill ran the notebook and for how
  long, the git commit, and the runs the page read -- every run the page loaded with
  :func:`nc_core.sweep.collect`, which notes them with :func:`record_runs` while the page runs (``execute``
  tells the page's kernel where, :data:`RUNS_RECORD_ENV`) -- with their compute and the code (commit, or
  commit plus a kept diff) that trained them, as their records give it. It then writes
  ``book/generated/status.md`` from the records (:func:`write_status_page`).
* ``python -m nc_core book check`` runs after the HTML build, so its result cannot be in the page's
  source: it writes its result (:func:`record_check`) and fills it into the built status page
  (:func:`apply_check`), in the placeholders the page leaves for it.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write
from ..plots import RUNS_RECORD_ENV
from .chapters import pages

__all__ = [
    "CHECK_RECORD",
    "RUNS_RECORD_ENV",
    "STATUS_PAGE",
    "apply_check",
    "load_records",
    "record_check",
    "record_runs",
    "runs_file",
    "status_page",
    "summarise_runs",
    "write_record",
    "write_status_page",
]

#: The generated page (beside the chapter pages) and the check's record (in the records' folder).
STATUS_PAGE = "status"
CHECK_RECORD = "check.json"
_PLACEHOLDER = re.compile(r'<span class="nc-check[^"]*" data-page="(?P<page>[^"]+)"[^>]*>.*?</span>')


def _folder(out_dir: Path) -> Path:
    return Path(out_dir) / "status"


def runs_file(out_dir: str | Path, page: str) -> Path:
    """The JSON-lines file where a page notes the runs it reads while it executes."""
    return _folder(Path(out_dir)) / f"{page}.runs.jsonl"


#: The fields of a run's final record noted for the status page.
RECORDED_FIELDS = ("run_id", "grid", "profile", "status", "epochs", "train_seconds", "metric_seconds",
                   "device_name", "git_commit", "recorded_at")  # fmt: skip


def record_runs(finals: pd.DataFrame, path: str | Path | None = None) -> int:
    """Note the runs of ``finals`` (final records, one row per run) as read by a page, for its status page:
    one JSON line per run (:data:`RECORDED_FIELDS`) appended to ``path``, by default the runs file that
    ``python -m nc_core book execute`` names for the page it is executing (:data:`RUNS_RECORD_ENV`).
    Outside such an execution (no ``path``, no variable) nothing is written. Returns the number of runs
    noted. :func:`nc_core.sweep.collect` calls it for every page that loads its runs through it."""
    import os

    target = path or os.environ.get(RUNS_RECORD_ENV)
    if not target or "run_id" not in finals or not len(finals):
        return 0
    cols = [c for c in RECORDED_FIELDS if c in finals]
    rows = finals[cols].astype(object).where(finals[cols].notna(), None).to_dict("records")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
    return len(rows)


def _time(text: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def summarise_runs(path: str | Path, started: str | None = None) -> dict[str, Any]:
    """What a page's runs file says: how many distinct runs, of which grids and profiles, how many were
    recorded after ``started`` (trained while the page ran), their compute in seconds (training plus NC
    metrics, as their records give it), devices and commits, and their ids. An absent file: no runs."""
    path = Path(path)
    rows: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[str(row.get("run_id"))] = row
    start = _time(started) if started else None
    new = [r for r in rows.values() if start and (t := _time(r.get("recorded_at"))) and t >= start]
    seconds = sum(float(r.get(k) or 0.0) for r in rows.values() for k in ("train_seconds", "metric_seconds"))
    return {
        "count": len(rows),
        "trained_now": len(new),
        "compute_seconds": round(seconds, 1),
        "grids": dict(Counter(str(r.get("grid", "?")) for r in rows.values())),
        "profiles": sorted({str(r["profile"]) for r in rows.values() if r.get("profile")}),
        "statuses": dict(Counter(str(r.get("status", "?")) for r in rows.values())),
        "devices": sorted({str(r["device_name"]) for r in rows.values() if r.get("device_name")}),
        "commits": sorted({str(r["git_commit"]) for r in rows.values() if r.get("git_commit")}),
        "ids": sorted(rows),
        "source": "runs the page loaded" if path.is_file() else "none recorded",
    }


def write_record(out_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write a page's record (a dict with at least ``page``) to ``<out_dir>/status/<page>.json``."""
    path = _folder(Path(out_dir)) / f"{record['page']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, default=str)
    # atomic: pages executed in parallel write theirs while the status page reads every record
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def load_records(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every page's record under ``<out_dir>/status/``, by page."""
    folder = _folder(Path(out_dir))
    records = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name != CHECK_RECORD:
            record = json.loads(path.read_text(encoding="utf-8"))
            records[record["page"]] = record
    return records


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _when(text: str | None) -> str:
    t = _time(text) if text else None
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if t else "-"


def _runs_cell(runs: dict[str, Any]) -> str:
    if not runs.get("count"):
        return "none"
    text = f"{runs['count']} ({runs['trained_now']} trained now)"
    return text + (f", {_duration(runs['compute_seconds'])} compute" if runs.get("compute_seconds") else "")


def _commits_cell(runs: dict[str, Any], most: int = 3) -> str:
    """The code behind a page's runs: their ``git_commit`` values (``sha`` or ``sha+diff.<hash>``), at
    most ``most`` of them and how many more."""
    commits = list(runs.get("commits") or [])
    if not commits:
        return "-"
    shown = ", ".join(f"`{c}`" for c in commits[:most])
    return shown + (f" and {len(commits) - most} more" if len(commits) > most else "")


def _placeholder(page: str, text: str) -> str:
    return f'<span class="nc-check" data-page="{html.escape(page)}">{html.escape(text)}</span>'


def status_page(records: dict[str, dict[str, Any]], order: Iterable[str] | None = None) -> str:
    """The MyST markdown of the status page: one row per page of ``order`` (default: every page of the
    book, in execution order), from ``records`` (:func:`load_records`)."""
    order = list(order) if order is not None else [c.page(v) for c, v in pages()]
    commits = sorted({r.get("commit", "?") for r in records.values()})
    profiles = sorted({r.get("profile", "?") for r in records.values()})
    total = sum(float(r.get("seconds") or 0.0) for r in records.values())
    lines = [
        "# Execution status",
        "",
        "How each page of this book was produced, as the build recorded it: `python -m nc_core book execute`",
        "runs every chapter notebook with papermill and writes one record per page",
        "(`book/generated/status/<page>.json`), from which this page is generated; the last column is filled",
        "in by `python -m nc_core book check`, which opens every built page in headless Chromium after the",
        "HTML build. Nothing on this page is typed by hand.",
        "",
        f"**Book check:** {_placeholder('*', 'not run on this build yet')}",
        "",
        f"**Executed:** {len(records)} of {len(order)} pages, at profile(s) {', '.join(profiles) or '-'}, "
        f"from commit(s) {', '.join(f'`{c}`' for c in commits) or '-'}; {_duration(total)} of notebook "
        "execution in all.",
        "",
        "| page | profile | executed (UTC), time | runs read | code of the runs | book check |",
        "|---|---|---|---|---|---|",
    ]
    for page in order:
        r = records.get(page)
        link = f"[{page.replace('_', ' ')}]({page})"
        if r is None:
            lines.append(f"| {link} | - | not executed | - | - | {_placeholder(page, 'not checked')} |")
            continue
        when = f"{_when(r.get('started'))}, {_duration(r.get('seconds'))}"
        when += "" if r.get("result") == "executed" else f" (**{r.get('result')}**)"
        # a page without its dataset is reported as such, never as a page that passed its check
        check = "**no data**" if r.get("data") == "no data" else _placeholder(page, "not checked")
        data = f" ({r['data']})" if r.get("data") and r.get("data") != "no data" else ""
        lines.append(
            f"| {link}{data} | {r.get('profile', '-')} | {when} | {_runs_cell(r.get('runs', {}))} | "
            f"{_commits_cell(r.get('runs', {}))} | {check} |"
        )
    lines += [
        "",
        "*executed*: when papermill started the notebook, and how long it ran (papermill's record).",
        "*runs read*: the training runs whose records the page loaded (`nc_core.sweep.collect` notes them",
        "for this page), how many of them were trained while it ran (recorded after it",
        "started; the others came from the results store), and their compute as their records give it",
        "(training plus NC metrics, summed over runs). A page that reads no runs -- the theory page's",
        "simulations, the claims page that collects the other pages' checks, a page whose dataset is",
        "missing -- computes in the notebook itself: its time is its compute.",
        "*no data*: the page's dataset is not on the machine that built it; the page says so in a box at",
        "the top and shows no figure (a copy of a dataset, e.g. CIFAR-10 (JPEG copy), is named beside it).",
        "*code of the runs*: the code each run was trained with, as its record names it: a commit `<sha>`,",
        "or `<sha>+diff.<hash>` for a run trained from a tree whose `nc_core/` differed from that commit,",
        "recoverable with `git checkout <sha> && git apply data/code/<hash>.diff`. Every commit is listed",
        "per page below, with the commit the page itself ran at and the runs' devices and ids.",
        "",
        "## By page",
        "",
    ]
    for page in order:
        r = records.get(page)
        if r is None:
            continue
        runs = r.get("runs", {})
        grids = ", ".join(f"{n} of grid `{g}`" for g, n in runs.get("grids", {}).items())
        title = f"{page}: " + (f"{runs['count']} runs ({grids})" if runs.get("count") else "no runs read")
        params = ", ".join(f"`{k} = {json.dumps(v)}`" for k, v in r.get("parameters", {}).items())
        body = [
            f"- notebook `{r.get('notebook', '?')}`, parameters {params or '(defaults)'}",
            f"- executed {_when(r.get('started'))} to {_when(r.get('finished'))} UTC at commit "
            f"`{r.get('commit', '?')}`; result: {r.get('result', '?')}",
            f"- re-run: `{r.get('rerun') or '-'}`",
        ]
        if r.get("error"):
            body.append(f"- error: {r['error']}")
        if runs.get("count"):
            statuses = ", ".join(f"{n} {s}" for s, n in runs.get("statuses", {}).items())
            body += [
                f"- runs: {statuses}; profile(s) {', '.join(runs.get('profiles', [])) or '-'}; trained on "
                f"{'; '.join(runs.get('devices', [])) or '-'}; at commit(s) "
                f"{', '.join(f'`{c}`' for c in runs.get('commits', [])) or '-'}",
                f"- run ids: {', '.join(f'`{i}`' for i in runs.get('ids', []))}",
            ]
        lines += [f":::{{dropdown}} {title}", *body, ":::", ""]
    return "\n".join(lines)


def write_status_page(out_dir: str | Path) -> Path:
    """Write ``<out_dir>/status.md`` from the records under ``<out_dir>/status/``; return its path."""
    path = Path(out_dir) / f"{STATUS_PAGE}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(status_page(load_records(out_dir)), encoding="utf-8")
    return path


def _page_name(page: Path, html_root: Path) -> str:
    """``book/generated/dynamics.html`` -> ``dynamics``; other pages by their path without ``.html``."""
    rel = page.relative_to(html_root).with_suffix("").as_posix()
    return rel.removeprefix("book/generated/")


def record_check(reports: Iterable[Any], html_root: str | Path, status_dir: str | Path | None = None) -> dict:
    """The check's result (pages checked, their problems, when); written to ``status_dir/check.json`` when
    ``status_dir`` is given. ``reports``: :func:`nc_core.book.check.check_book`'s."""
    html_root = Path(html_root).resolve()
    result = {
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": {_page_name(r.page, html_root): list(r.problems) for r in reports},
    }
    if status_dir is not None:
        path = Path(status_dir) / CHECK_RECORD
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def apply_check(html_root: str | Path, result: dict[str, Any]) -> Path | None:
    """Fill the check's ``result`` (:func:`record_check`) into the built status page under ``html_root``;
    return its path (``None`` when the book has no status page)."""
    path = Path(html_root) / "book" / "generated" / f"{STATUS_PAGE}.html"
    if not path.is_file():
        return None
    pages_ = result["pages"]
    bad = {p: problems for p, problems in pages_.items() if problems}
    when = _when(result["checked_at"])

    def fill(match: re.Match[str]) -> str:
        page = html.unescape(match["page"])
        if page == "*":
            text = f"{len(pages_)} pages checked at {when} UTC: " + (
                f"{len(bad)} with problems ({', '.join(sorted(bad))})" if bad else "every page passed"
            )
            state = "failed" if bad else "passed"
        elif page not in pages_:
            text, state = "not checked", "none"
        elif pages_[page]:
            text = f"{len(pages_[page])} problem(s): " + "; ".join(pages_[page])
            state = "failed"
        else:
            text, state = "passed", "passed"
        attributes = f'class="nc-check nc-check-{state}" data-page="{match["page"]}"'
        return f"<span {attributes}>{html.escape(text)}</span>"

    path.write_text(_PLACEHOLDER.sub(fill, path.read_text(encoding="utf-8")), encoding="utf-8")
    return path
