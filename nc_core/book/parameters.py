"""Every chapter notebook checks its papermill parameters first, so a typo fails with what is allowed."""

from __future__ import annotations

from typing import Any

from ..data import DATASETS
from ..models import MODEL_NAMES
from ..profiles import PROFILES

__all__ = ["check_parameters"]

_ALLOWED: dict[str, tuple[str, ...]] = {
    "profile": PROFILES,
    "model": tuple(MODEL_NAMES),
    "dataset": tuple(DATASETS),
}


def check_parameters(**params: Any) -> None:
    """Raise one ``ValueError`` naming every parameter (``profile``, ``model``, ``dataset``) whose value is
    not allowed, with the allowed values, e.g. ``check_parameters(profile=profile, model=model)``.

    Raises:
        ValueError: an unknown value, or a parameter this check does not know.
    """
    problems = []
    for name, value in params.items():
        if name not in _ALLOWED:
            raise ValueError(f"check_parameters knows {', '.join(_ALLOWED)}, not {name!r}")
        if value not in _ALLOWED[name]:
            problems.append(f"{name} {value!r} is not one of {', '.join(_ALLOWED[name])}")
    if problems:
        raise ValueError("bad notebook parameter(s): " + "; ".join(problems))
