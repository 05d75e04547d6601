"""The book pipeline: chapter notebooks, their scale profiles, and their papermill execution."""

from .chapters import CHAPTERS, PROFILES, Chapter, get_chapter
from .execute import GENERATED, execute_chapter
from .parameters import check_parameters

__all__ = [
    "CHAPTERS",
    "GENERATED",
    "PROFILES",
    "Chapter",
    "check_parameters",
    "execute_chapter",
    "get_chapter",
]
