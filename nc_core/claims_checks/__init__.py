"""The claim checks of every chapter, as library code: functions that take a page's runs (and its profile)
and return :class:`nc_core.claims.Check` rows, which the page records with ``log.extend(...)``.

One module per chapter (:mod:`.weight_decay`, :mod:`.dynamics`, :mod:`.momentum`, :mod:`.interpolation`,
:mod:`.training_length`, :mod:`.regression`, :mod:`.ufm`, :mod:`.vit`, :mod:`.beyond`, :mod:`.imagenet`,
:mod:`.theory`) and the rules they share (:mod:`.common`: the runs finished, the decay acted). Every
threshold a verdict depends on is a named constant of these modules or of :mod:`nc_core.claims`
(:data:`~nc_core.claims.MIN_EFFECT`).
"""

from . import (
    beyond,
    common,
    dynamics,
    imagenet,
    interpolation,
    momentum,
    regression,
    theory,
    training_length,
    ufm,
    vit,
    weight_decay,
)

__all__ = [
    "beyond",
    "common",
    "dynamics",
    "imagenet",
    "interpolation",
    "momentum",
    "regression",
    "theory",
    "training_length",
    "ufm",
    "vit",
    "weight_decay",
]
