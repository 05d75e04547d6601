"""Neural-collapse metrics of the paper (Section 2, Appendix B), one-shot and streaming.

* :func:`measure` - every metric of any ``torch.nn.Module`` in one call: the input of its final
  ``nn.Linear`` collected by a forward hook over a loader of ``(inputs, labels)``, streamed in float64;
  with ``layers=[names]``, NC1, NC2 and nearest-class-centre accuracy of each named stage.
* :func:`nc_metrics` - every metric from in-memory features, labels and the last-layer weight.
* :class:`FeatureAccumulator` + :func:`metrics_from_stats` + :func:`nearest_mean_agreement` - the
  same numbers from a stream of batches, without holding the ``N x p`` features.
* :func:`layer_metrics` - NC1, NC2 and nearest-class-centre accuracy after every stage of a model that
  names its stages (ResNet9, VGG9: :func:`stage_outputs`).
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
from .measure import measure

__all__ = [
    "ClassStats",
    "Convention",
    "DegenerateFeaturesError",
    "FeatureAccumulator",
    "LAYER_COLUMNS",
    "METRIC_KEYS",
    "NonFiniteError",
    "layer_metrics",
    "measure",
    "metrics_from_stats",
    "nc0",
    "nc_metrics",
    "nearest_mean_agreement",
    "simplex_etf_gram",
    "singular_value_summary",
    "stage_outputs",
]
