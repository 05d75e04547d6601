"""The book pipeline: chapter notebooks, their scale profiles, and their papermill execution."""

from .chapters import CHAPTERS, Chapter
from .execute import GENERATED, execute_chapter
from .parameters import check_parameters

__all__ = [
    "CHAPTERS",
    "GENERATED",
    "Chapter",
    "check_parameters",
    "execute_chapter",
]
