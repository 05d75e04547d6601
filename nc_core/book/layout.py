"""What the reader sees of an executed notebook's parameters: one box instead of two code cells.

A chapter notebook keeps its ``parameters`` cell (papermill needs it) and papermill adds an
``injected-parameters`` cell after it. On the page both are replaced, for the reader, by a box (a
markdown cell inserted by :func:`present_parameters` after execution) that says with which parameters
the page was run and gives the exact commands that re-run it; the two code cells are tagged
``remove-cell`` (myst-nb leaves them out of the HTML) but stay in the executed notebook.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml

from .chapters import REPO_ROOT

__all__ = [
    "BOX_CLASS",
    "HIDDEN_TAG",
    "papermill_command",
    "parameter_box",
    "present_parameters",
    "repo_relative",
]

#: The tag myst-nb honours to leave a cell out of the page.
HIDDEN_TAG = "remove-cell"
#: The class of the box on the page (styled by ``book/_static/nc-book.css``).
BOX_CLASS = "nc-run-box"
_PARAMETER_TAGS = ("parameters", "injected-parameters")


def repo_relative(path: str | Path) -> str:
    """``path`` as a command run from the repository root would name it (absolute outside the repository)."""
    path = Path(path).resolve()
    return (path.relative_to(REPO_ROOT).as_posix() or ".") if path.is_relative_to(REPO_ROOT) else str(path)


def _shown_path(value: Any) -> Any:
    """A path under the repository as the relative path a command run from its root would use."""
    return repo_relative(value) if isinstance(value, str) and value.startswith("/") else value


def _literal(value: Any) -> str:
    """``value`` as the Python literal papermill injects (strings in double quotes)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def papermill_command(notebook: str | Path, parameters: dict[str, Any], out: str = "out.ipynb") -> str:
    """The ``papermill`` command line that runs ``notebook`` with exactly ``parameters``: ``-p`` where
    papermill reads the value back as given, ``-r`` for strings it would take for numbers or booleans,
    ``-y`` for lists and dicts."""
    parts = ["papermill", repo_relative(notebook), out]
    for name, value in parameters.items():
        value = _shown_path(value)
        if isinstance(value, (list, dict, tuple)):
            value = list(value) if isinstance(value, tuple) else value
            parts += ["-y", shlex.quote(yaml.safe_dump({name: value}, default_flow_style=True).strip())]
        elif isinstance(value, str):
            flag = "-p" if _papermill_reads(value) == value else "-r"  # "1e-3", "nan", "True": raw
            parts += [flag, name, shlex.quote(value)]
        else:
            parts += ["-p", name, shlex.quote(str(value))]
    return " ".join(parts)


def _papermill_reads(text: str) -> Any:
    """What ``papermill -p NAME TEXT`` passes to the notebook (papermill's own reading of the text)."""
    from papermill.cli import _resolve_type

    return _resolve_type(text)


def _wrap(command: str, width: int = 88) -> str:
    """Break a long shell command before its options (`` \\`` continuations), so it fits the box."""
    words = re.split(r" (?=-[-a-z])", command)
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) > width:
            lines.append(line + " \\")
            line = "    " + word
        else:
            line += " " + word
    return "\n".join([*lines, line])


def _cell_text(text: str) -> str:
    """Text for a markdown table cell (no pipes, no line breaks)."""
    return text.replace("|", "\\|").replace("\n", " ").strip()


def parameter_box(
    notebook: str | Path,
    injected: dict[str, Any],
    declared: dict[str, dict[str, Any]],
    *,
    rerun: str | None,
    profile: str,
) -> str:
    """The MyST markdown of the box: the profile, the parameters set for this page, the commands that
    re-run it (``rerun``: the ``nc_core`` one, ``None`` to give only papermill's), and every parameter
    with its value and meaning (``declared``: :func:`papermill.inspect_notebook`)."""
    injected = {k: injected[k] for k in [*declared, *injected] if k in injected}  # the notebook's order
    shown = {k: _shown_path(v) for k, v in injected.items()}
    set_here = ", ".join(f"`{k} = {_literal(v)}`" for k, v in shown.items()) or "none"
    commands = ([rerun] if rerun else []) + [_wrap(papermill_command(notebook, injected))]
    rows = []
    for name in [*declared, *(k for k in shown if k not in declared)]:
        info = declared.get(name, {})
        value = f"**`{_literal(shown[name])}`**" if name in shown else f"`{info.get('default', '')}`"
        rows.append(f"| `{name}` | {value} | {_cell_text(str(info.get('help') or ''))} |")
    table = "\n".join(["| parameter | value | meaning |", "|---|---|---|", *rows])
    return "\n".join(
        [
            f"::::{{admonition}} Run at profile `{profile}`: parameters and how to re-run this page",
            f":class: {BOX_CLASS}",
            "",
            f"Set for this page: {set_here}; every other parameter at the notebook's default. "
            "Re-run it (from the repository root) with:",
            "",
            "```bash",
            *commands,
            "```",
            "",
            ":::{dropdown} All parameters of the notebook (bold: set for this page)",
            "",
            table,
            ":::",
            "::::",
        ]
    )


def present_parameters(
    path: str | Path, notebook: str | Path, *, profile: str, rerun: str | None, tags: Sequence[str] = ()
) -> None:
    """Rewrite the executed notebook at ``path`` (run from ``notebook``) for the reader: its parameter
    cells are tagged ``remove-cell`` and the box of :func:`parameter_box` takes their place.

    ``tags``: further tags of the box cell. Raises ``ValueError`` when the notebook has no parameter cell.
    """
    nb = nbformat.read(path, as_version=4)
    cells = [i for i, c in enumerate(nb.cells) if set(c.metadata.get("tags", [])) & set(_PARAMETER_TAGS)]
    if not cells:
        raise ValueError(f"{path}: no parameters cell (tag a code cell 'parameters')")
    for i in cells:
        tagged = nb.cells[i].metadata.setdefault("tags", [])
        if HIDDEN_TAG not in tagged:
            tagged.append(HIDDEN_TAG)
    injected = dict(nb.metadata.get("papermill", {}).get("parameters", {}))
    declared = papermill.inspect_notebook(str(notebook))
    box = nbformat.v4.new_markdown_cell(
        parameter_box(notebook, injected, declared, rerun=rerun, profile=profile),
        metadata={"tags": ["nc-run-box", *tags]},
    )
    nb.cells.insert(cells[0], box)
    nbformat.write(nb, path)
