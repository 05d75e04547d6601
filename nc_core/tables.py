"""Tables and numbers formatted for a reader (issue 25 item 2): significant digits, thousands separators,
no Python reprs, no positional row index.

* :func:`readable` - one value as text: ``63.999999999999424`` -> ``64``, ``10064814.847`` ->
  ``10,064,815``, ``9.692430289656735e-15`` -> ``9.69e-15``, ``{"3": 2.2, "4": 1.5}`` -> ``3: 2.2; 4: 1.5``,
  ``[[0.99, 0.003]]`` -> ``0.99 / 0.003``; a string holding JSON (as check values are stored) is read first.
* :func:`show` - a DataFrame as a pandas ``Styler`` with every cell through :func:`readable` and the row
  index hidden where it is only positions (0, 1, 2, ...).
"""

from __future__ import annotations

import ast
import json
import math
import numbers
import re
from typing import Any

import pandas as pd

__all__ = ["readable", "show"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    if abs(rounded) >= 1e4:
        return f"{rounded:,.0f}" if abs(rounded) < 1e15 else f"{value:.{digits - 1}e}"
    if abs(rounded) < 1e-3:
        return f"{value:.{digits - 1}e}".replace("e-0", "e-")
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:.{digits}g}"


def readable(value: Any, digits: int = 3) -> str:
    """``value`` as a reader should see it (``digits`` significant digits for non-integers).

    Integers get thousands separators (``98,300``); floats ``digits`` significant digits, plain between
    0.001 and 10,000 (a float that rounds to an integer prints as one), with separators above and in
    scientific notation below; ``None`` / NaN ``-``; booleans ``yes`` / ``no``; a dict ``key: value; ...``; a
    list its items joined by ``, ``, a tuple by `` / `` (a list of lists or tuples: `` / `` inside, ``; ``
    between); a string that holds a number, or a container as JSON or as Python's repr, is formatted as
    that value; other strings are kept.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return _number(float(value), digits)
    if isinstance(value, dict):
        return "; ".join(f"{readable(k, digits)}: {readable(v, digits)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, list | tuple) for v in value):
            return "; ".join(" / ".join(readable(x, digits) for x in v) for v in value)
        return (" / " if isinstance(value, tuple) else ", ").join(readable(v, digits) for v in value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):  # a number stored as text (a check's value)
            return readable(int(text) if text.lstrip("+-").isdigit() else float(text), digits)
        if text[:1] in "{[(" and text[-1:] in "}])":  # a container stored as JSON or as Python's repr
            for parse in (json.loads, ast.literal_eval):
                try:
                    return readable(parse(text), digits)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
        return value
    try:
        if pd.isna(value):
            return "-"
    except (TypeError, ValueError):
        pass
    return str(value)


def show(df: pd.DataFrame, caption: str | None = None, digits: int = 3) -> Any:
    """``df`` as a ``Styler`` for a page: every cell (and index label) through :func:`readable`, the index
    hidden when it is a plain 0, 1, 2, ... (a ``RangeIndex`` without a name), ``caption`` above it."""
    style = df.style.format(lambda v: readable(v, digits)).format_index(lambda v: readable(v, digits))
    if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
        style = style.hide(axis="index")
    return style.set_caption(caption) if caption else style
