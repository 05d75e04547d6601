"""The measurement pass: loss, accuracy and every NC metric of a model, in eval mode.

Features come from a separate pass over the un-augmented training set in eval mode (BatchNorm with
running statistics), never from the training forward passes (notes on the authors' code; Papyan et
al. 2020). One pass over the training set feeds the streaming :class:`FeatureAccumulator`; NC4 is
measured on the test set (paper eq. 11) with the final class means, during the test-accuracy pass.

Data held whole on the device (:class:`~nc_core.data.TensorData`) is cut into batches by slicing; a
streamed dataset (:class:`~nc_core.data.ImageFolderData`, ImageNet) supplies its own un-augmented
batches (``eval_batches``: the evaluation transform, in file order). Either way the statistics come from
the same single streaming pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from ..data import ImageFolderData, TensorData
from ..metrics import FeatureAccumulator, metrics_from_stats, nearest_mean_agreement
from ..models import FeatureClassifier

__all__ = ["measure", "CODE_CONVENTION_KEYS", "EvalData"]

#: What the metric pass reads: tensors on the device, or a dataset streamed from disk.
EvalData = TensorData | ImageFolderData

# metrics whose value differs under the authors' released-code convention; stored with a _code suffix
CODE_CONVENTION_KEYS = ("NC0", "NC2", "NC2W", "NC2M", "NC3", "NC4")


def _batches(data: EvalData, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(x, y)`` batches of ``data`` in order, on its device, without augmentation."""
    if isinstance(data, TensorData):
        return zip(data.x.split(batch_size), data.y.split(batch_size), strict=True)
    return data.eval_batches(batch_size)


@torch.no_grad()
def measure(
    model: FeatureClassifier,
    train: EvalData,
    test: EvalData | None,
    *,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Train/test loss and accuracy, NC0-NC4 (paper convention, plus ``*_code`` variants) and the
    singular values of Figure 6, in two forward passes: the training set (feature statistics), then
    the test set (loss, accuracy and NC4 against the now final class means). Without a test set NC4
    is measured on the training set, which then takes a second pass.

    The pass runs in float32 whatever precision training used (a ``bf16`` run trains under autocast but
    is measured without it), and the feature statistics accumulate in float64.
    The model is put in eval mode and restored to its previous mode afterwards.
    """
    was_training = model.training
    model.eval()
    device = train.device
    acc = FeatureAccumulator(model.num_classes)
    weight = model.classifier.weight
    out: dict[str, float] = {}
    stats = None
    agree = {True: 0, False: 0}  # NC4 agreement counts: classifier scored centred (NC4_centred) / raw (NC4)
    passes = [("train", train), ("test", test if test is not None else train)]
    for split, data in passes:
        loss = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        for x, y in _batches(data, batch_size):
            logits, features = model.forward_with_features(x)
            loss += F.cross_entropy(logits.float(), y, reduction="sum")
            correct += (logits.argmax(dim=1) == y).sum()
            if stats is None:
                acc.update(features, y)
            else:
                for centered in agree:
                    agree[centered] = agree[centered] + nearest_mean_agreement(
                        features, weight, stats.means, centered=centered
                    )
        if split == "train" or test is not None:
            out[f"{split}_loss"] = float(loss) / len(data)
            out[f"{split}_acc"] = float(correct) / len(data)
        stats = acc.finalize()
    n_ncc = len(passes[1][1])
    nc4 = {"nc4": float(agree[False]) / n_ncc, "nc4_centred": float(agree[True]) / n_ncc}
    # an all-zero classifier (e.g. zero-initialised) leaves the metrics of its direction undefined: NaN
    paper = metrics_from_stats(stats, weight, **nc4, convention="paper", zero_weight="nan")
    code = metrics_from_stats(stats, weight, **nc4, convention="code", zero_weight="nan")
    out.update(paper)
    out.update({f"{k}_code": code[k] for k in CODE_CONVENTION_KEYS})
    model.train(was_training)
    return out
