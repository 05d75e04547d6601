"""Neural-collapse metrics of the paper (Section 2, Appendix B), one-shot and streaming.

* :func:`nc_metrics` - every metric from in-memory features, labels and the last-layer weight.
* :class:`FeatureAccumulator` + :func:`metrics_from_stats` + :func:`nearest_mean_agreement` - the
  same numbers from a stream of batches, without holding the ``N x p`` features.
* :func:`layer_metrics` - NC1, NC2 and nearest-class-centre accuracy after every stage of ResNet9 / VGG9
  (:func:`stage_outputs`).
"""

from .accumulator import ClassStats, DegenerateFeaturesError, FeatureAccumulator, NonFiniteError
from .formulas import (
    METRIC_KEYS,
    Convention,
    metrics_from_stats,
    nc0,
    nc_metrics,
    nearest_mean_agreement,
    simplex_etf_gram,
    singular_value_summary,
)
from .layers import LAYER_COLUMNS, layer_metrics, stage_outputs

__all__ = [
    "ClassStats",
    "Convention",
    "DegenerateFeaturesError",
    "FeatureAccumulator",
    "LAYER_COLUMNS",
    "METRIC_KEYS",
    "NonFiniteError",
    "layer_metrics",
    "metrics_from_stats",
    "nc0",
    "nc_metrics",
    "nearest_mean_agreement",
    "simplex_etf_gram",
    "singular_value_summary",
    "stage_outputs",
]
