"""Neural-collapse metrics of any PyTorch model in one call (paper Section 2, Appendix B).

:func:`measure` takes a model, a loader of ``(inputs, labels)`` batches and the name (or the module) of the
model's final ``nn.Linear`` ``z = W h + b``. A forward hook on that layer collects its *input* ``h`` (the
penultimate features of Appendix B) batch by batch, in eval mode and without gradients, into the exact
float64 :class:`~nc_core.metrics.FeatureAccumulator`; ``W`` is the layer's weight. It returns the dict of
:func:`~nc_core.metrics.nc_metrics`, with

* ``NC0 = ||W^T 1||^2 / K`` (paper convention),
* ``NC1 = Tr(Sigma_W Sigma_B^+) / K`` (eq. 2),
* ``NC2 = || M^T M / ||M^T M||_F - M* ||_F / K^2`` (eq. 5; NC2n/NC2a eqs. 3-4, NC2W* eqs. 6-8, NC2M eq. 9),
* ``NC3 = || W/||W||_F - M^T/||M||_F ||_F / (K p)`` (eq. 10),
* ``NC4`` the share of samples where ``argmax_k <w_k, h>`` is the nearest class mean ``argmin_k ||h - mu_k||``
  (eq. 11), on the test loader,

for ``K`` classes (``W.shape[0]``), ``p`` features, class means ``mu_k``, ``M = [mu_k - mu_G]`` and the
simplex-ETF Gram matrix ``M*`` (module :mod:`nc_core.metrics.formulas`; ``convention="code"`` gives the
authors' normalisations). One pass over the training loader gives every metric but NC4; NC4 needs the final
class means, so it takes a second pass: over ``test_loader``, or over the training loader again without one
(as ``nc_metrics`` measures NC4 on the training features without test features).

With ``layers=[names]``, the same machinery hooks the *outputs* of the named modules (the stages of the
network) and returns NC1, NC2 and the nearest-class-centre accuracy of each stage
(:func:`nc_core.metrics.layer_metrics` is this for the project's models, which name their stages).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, overload

import pandas as pd
import torch
from torch import nn

from .accumulator import ClassStats, FeatureAccumulator, _check_batch
from .formulas import Convention, _etf_distance, _nc1, _unit_scale, metrics_from_stats, nearest_mean_agreement

__all__ = ["LAYER_COLUMNS", "Layer", "measure", "resolve_layer", "stage_table"]

#: Columns of the per-stage table (:func:`measure` with ``layers``, :func:`~nc_core.metrics.layer_metrics`).
LAYER_COLUMNS = ("stage", "depth", "dim", "NC1", "NC2", "ncc_acc")

#: A layer of a model: its dotted name (``"fc"``, ``"backbone.flatten"``) or the module object itself.
Layer = str | nn.Module

_Take = Literal["input", "output"]


def resolve_layer(model: nn.Module, layer: Layer, role: str = "layer") -> tuple[str, nn.Module]:
    """``(dotted name, module)`` of ``layer`` in ``model``: a name as ``model.get_submodule`` reads it
    (``""`` is the model itself), or a module that must be one of ``model``'s submodules.

    Raises:
        ValueError: no module of that name (the message suggests close names), or a module that is not
            part of ``model``.
        TypeError: ``layer`` is neither a string nor an ``nn.Module``.
    """
    if isinstance(layer, nn.Module):
        for name, module in model.named_modules():
            if module is layer:
                return name, module
        raise ValueError(
            f"the {role} given ({type(layer).__name__}) is not a submodule of the model "
            f"{type(model).__name__}"
        )
    if not isinstance(layer, str):
        raise TypeError(
            f"{role} must be a module name (a dotted path such as 'fc' or 'backbone.flatten') or an "
            f"nn.Module, got {type(layer).__name__}"
        )
    try:
        return layer, model.get_submodule(layer)
    except AttributeError:
        names = [name for name, _ in model.named_modules() if name]
        close = difflib.get_close_matches(layer, names, n=3)
        hint = (
            f"did you mean {', '.join(map(repr, close))}?"
            if close
            else f"its top-level modules: {', '.join(n for n, _ in model.named_children()) or 'none'}"
        )
        raise ValueError(f"{type(model).__name__} has no {role} {layer!r}; {hint}") from None


def _default_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """``device``, else the device of the model's first parameter (or buffer), else the CPU."""
    if device is not None:
        return torch.device(device)
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode and ``torch.no_grad`` inside; every submodule's own train/eval flag restored afterwards
    (also on an exception)."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training


def _pooled(output: torch.Tensor) -> torch.Tensor:
    """A stage output as float64 features: ``(B, C, H, W)`` -> ``(B, C)`` by global average pooling
    ``h_c = (1/HW) sum_ij a_cij``; ``(B, p)`` copied as it is; any other shape is returned for the check."""
    if output.dim() == 4:
        return output.mean(dim=(2, 3), dtype=torch.float64)
    return output.detach().to(torch.float64, copy=True) if output.dim() == 2 else output


@contextmanager
def _hooked(targets: Mapping[str, tuple[nn.Module, _Take]]) -> Iterator[dict[str, list[Any]]]:
    """Forward hooks that record, per name, the first input (``"input"``) or the output (``"output"``) of
    a module at every call, as float64 features (:func:`_pooled` for outputs; inputs copied, never pooled);
    removed on exit, also on an exception."""
    captured: dict[str, list[Any]] = {name: [] for name in targets}

    def recorder(name: str, take: _Take) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
        def hook(_module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            value = (args[0] if args else None) if take == "input" else output
            if torch.is_tensor(value):
                if take == "output":
                    value = _pooled(value)
                elif value.dim() == 2:
                    value = value.detach().to(torch.float64, copy=True)
            captured[name].append(value)

        return hook

    handles = [module.register_forward_hook(recorder(name, take)) for name, (module, take) in targets.items()]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def _describe(value: Any) -> str:
    """A short description of what a loader yielded, for error messages."""
    if isinstance(value, Mapping):
        return f"a dict with keys {list(value)[:5]}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    if torch.is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)}"
    kind = type(value).__name__
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"


def _pairs(loader: Iterable[Any], name: str, device: torch.device) -> Iterator[tuple[int, Any, torch.Tensor]]:
    """``(batch index, inputs, labels)`` of ``loader`` with both on ``device`` (inputs that are not a tensor
    are passed to the model as they are); ``TypeError`` for anything but ``(inputs, labels)`` batches with
    1-D integer label tensors, ``ValueError`` for an empty loader."""
    try:
        batches = iter(loader)
    except TypeError:
        raise TypeError(
            f"{name} must be an iterable of (inputs, labels) batches such as a torch DataLoader, got "
            f"{type(loader).__name__}"
        ) from None
    count = 0
    for i, batch in enumerate(batches):
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise TypeError(f"{name} must yield (inputs, labels) pairs; batch {i} is {_describe(batch)}")
        x, y = batch
        if not torch.is_tensor(y):
            raise TypeError(
                f"{name} batch {i}: the labels are {_describe(y)}, not a tensor of class indices (batch a "
                "dataset with torch.utils.data.DataLoader)"
            )
        if y.dim() != 1 or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise TypeError(
                f"{name} batch {i}: labels must be a 1-D tensor of integer class indices, got {y.dtype} "
                f"of shape {tuple(y.shape)}"
            )
        count += 1
        yield i, x.to(device) if torch.is_tensor(x) else x, y.to(device)
    if count == 0:
        raise ValueError(f"{name} yielded no batch")


def _forward(
    model: nn.Module,
    x: Any,
    captured: dict[str, list[Any]],
    targets: Mapping[str, tuple[nn.Module, _Take]],
    batch: int,
    where: str,
) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` and return each hooked module's features ``(batch, p)``; ``ValueError`` if a
    module did not run exactly once or gave no ``(batch, p)`` (or ``(batch, C, H, W)``) tensor."""
    for calls in captured.values():
        calls.clear()
    model(x)
    out = {}
    for name, calls in captured.items():
        take = targets[name][1]
        what = f"the {take} of {name!r}"
        if len(calls) != 1:
            raise ValueError(
                f"{where}: {name!r} ran {len(calls)} times in one forward pass of {type(model).__name__}; "
                "it must run exactly once per batch"
                + (" (is it on the model's forward path?)" if not calls else "")
            )
        h = calls[0]
        if not torch.is_tensor(h) or h.dim() != 2 or h.shape[0] != batch:
            shape = tuple(h.shape) if torch.is_tensor(h) else type(h).__name__
            maps = " or a (B, C, H, W) map, average-pooled" if take == "output" else ""
            raise ValueError(
                f"{where}: {what} is {shape} for a batch of {batch} labels; measuring needs one feature "
                f"vector per sample, shape ({batch}, p){maps}"
            )
        out[name] = h
    return out


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Re-raise a ``ValueError`` (or its subclasses, e.g. :class:`NonFiniteError`) prefixed by ``where``."""
    try:
        yield
    except ValueError as err:
        raise type(err)(f"{where}: {err}") from None


def _finalised(acc: FeatureAccumulator, where: str) -> ClassStats:
    with _located(where):
        return acc.finalize()


def _single_pass_loader(loader: Iterable[Any], name: str) -> None:
    """``TypeError`` for a one-shot iterator (a generator): the measurement iterates ``loader`` twice."""
    if isinstance(loader, Iterator):
        raise TypeError(
            f"{name} is a one-shot iterator; measuring iterates it twice (pass a DataLoader or a list of "
            "batches)"
        )


@overload
def measure(
    model: nn.Module,
    train_loader: Iterable[Any],
    classifier: Layer = "fc",
    test_loader: Iterable[Any] | None = None,
    *,
    convention: Convention = "paper",
    device: torch.device | str | None = None,
    layers: None = None,
) -> dict[str, float]: ...


@overload
def measure(
    model: nn.Module,
    train_loader: Iterable[Any],
    classifier: Layer = "fc",
    test_loader: Iterable[Any] | None = None,
    *,
    convention: Convention = "paper",
    device: torch.device | str | None = None,
    layers: Sequence[Layer] | Mapping[str, Layer] | Layer,
) -> pd.DataFrame: ...


def measure(
    model: nn.Module,
    train_loader: Iterable[Any],
    classifier: Layer = "fc",
    test_loader: Iterable[Any] | None = None,
    *,
    convention: Convention = "paper",
    device: torch.device | str | None = None,
    layers: Sequence[Layer] | Mapping[str, Layer] | Layer | None = None,
) -> dict[str, float] | pd.DataFrame:
    """NC0-NC4 of the paper (Appendix B) for any model, from its final linear layer, in one call.

    The features ``h`` are the *input* of ``classifier`` (an ``nn.Linear`` ``z = W h + b``), collected by a
    forward hook while the model runs in eval mode under ``torch.no_grad``; ``W = classifier.weight``
    (``K x p``, bias excluded) and ``K = classifier.out_features``. The training loader is streamed once
    into an exact float64 :class:`~nc_core.metrics.FeatureAccumulator` (class counts, class means
    ``mu_k``, ``Sigma_W = (1/N) sum_n (h_n - mu_{y_n})(h_n - mu_{y_n})^T``), from which every metric but NC4
    follows (:func:`~nc_core.metrics.metrics_from_stats`); NC4 (eq. 11) is the share of samples of
    ``test_loader`` (of ``train_loader`` again if there is none) where ``argmax_k <w_k, h>`` equals the
    nearest class mean. The result equals :func:`~nc_core.metrics.nc_metrics` on the same features
    gathered by hand.

    Example:
        >>> model = torchvision.models.resnet18(num_classes=10)
        >>> m = measure(model, DataLoader(train_set, batch_size=256), "fc", DataLoader(test_set, 256))
        >>> m["NC1"], m["NC4"]

    Args:
        model: any ``torch.nn.Module``; it is called as ``model(inputs)``. Its own train/eval flag and
            every submodule's are restored afterwards, also on an error.
        train_loader: an iterable of ``(inputs, labels)`` batches (a ``DataLoader`` over a torchvision
            dataset or a ``TensorDataset``, a list of pairs); labels are 1-D integer tensors in ``[0, K)``
            and every class must occur. Use un-augmented batches: the features are the model's at face
            value. Iterated twice when there is no ``test_loader`` (or with ``layers``), so not a generator.
        classifier: the final ``nn.Linear``: its dotted name in ``model`` (``"fc"`` for torchvision's
            ResNets, ``"classifier"`` for the project's models, ``"heads.head"`` for torchvision's ViT)
            or the module itself. It must run once per forward pass on ``(B, p)`` features.
        test_loader: batches on which NC4 is measured (its labels are only checked to lie in ``[0, K)``).
        convention: ``"paper"`` (formulas as printed) or ``"code"`` (the authors' logged normalisations);
            see :mod:`nc_core.metrics.formulas`.
        device: where batches are sent; default the device of the model's first parameter (the model is
            not moved).
        layers: instead of the last-layer metrics, the stages whose *outputs* to measure: names or modules
            (a single one, a sequence, or a mapping ``{stage label: name or module}``). Returns a
            ``pandas.DataFrame`` with :data:`LAYER_COLUMNS`, one row per stage (:func:`stage_table`);
            ``classifier`` then only gives ``K``, and ``test_loader`` is not used.

    Returns:
        Without ``layers``: the dict of :func:`~nc_core.metrics.nc_metrics` (keys of
        :data:`~nc_core.metrics.METRIC_KEYS` and the singular-value summary of Figure 6). With ``layers``:
        the per-stage table.

    Raises:
        ValueError: no module of that name, a layer that does not run once per batch or gives no
            ``(B, p)`` features, labels outside ``[0, K)``, a class without samples, an empty loader,
            NaN/inf features (:class:`~nc_core.metrics.NonFiniteError`).
        TypeError: ``model`` is not a module, ``classifier`` is not an ``nn.Linear``, a loader yields
            something other than ``(inputs, labels)`` pairs with integer label tensors.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if convention not in ("paper", "code"):
        raise ValueError(f"convention must be 'paper' or 'code', got {convention!r}")
    name, linear = resolve_layer(model, classifier, "classifier")
    if not isinstance(linear, nn.Linear):
        raise TypeError(
            f"classifier {name!r} is a {type(linear).__name__}, not an nn.Linear: pass the model's final "
            "Linear layer (its input are the features h, its weight the W of the NC metrics)"
        )
    K = linear.out_features
    if K < 2:
        raise ValueError(f"classifier {name!r} has {K} output(s); NC metrics need K >= 2 classes")
    device = _default_device(model, device)
    if layers is not None:
        if test_loader is not None:
            raise ValueError("test_loader is not used with layers: stages are measured on train_loader")
        if isinstance(layers, str | nn.Module):
            layers = [layers]
        items = layers.items() if isinstance(layers, Mapping) else ((None, layer) for layer in layers)
        stages = []
        for label, layer in items:
            stage_name, module = resolve_layer(model, layer, "layer")
            stages.append((stage_name if label is None else str(label), module))
        return stage_table(model, train_loader, stages, K, device=device, convention=convention)
    if test_loader is None:
        _single_pass_loader(train_loader, "train_loader")
    targets: dict[str, tuple[nn.Module, _Take]] = {name: (linear, "input")}
    context = f"(classifier {name!r}, K = {K})"
    acc = FeatureAccumulator(K)
    agree: dict[bool, Any] = {False: 0, True: 0}  # NC4 / NC4_centred agreement counts
    n_eval = 0
    with _evaluating(model), _hooked(targets) as captured:
        for i, x, y in _pairs(train_loader, "train_loader", device):
            h = _forward(model, x, captured, targets, len(y), f"train_loader batch {i}")[name]
            with _located(f"train_loader batch {i} {context}"):
                acc.update(h, y)
        stats = _finalised(acc, f"train_loader {context}")
        eval_name = "train_loader" if test_loader is None else "test_loader"
        for i, x, y in _pairs(train_loader if test_loader is None else test_loader, eval_name, device):
            h = _forward(model, x, captured, targets, len(y), f"{eval_name} batch {i}")[name]
            with _located(f"{eval_name} batch {i} {context}"):
                _check_batch(h, y, K, "features", "labels")
            for centered in agree:
                agree[centered] = agree[centered] + nearest_mean_agreement(
                    h, linear.weight, stats.means, centered=centered
                )
            n_eval += len(y)
    return metrics_from_stats(
        stats,
        linear.weight,
        nc4=float(agree[False]) / n_eval,
        nc4_centred=float(agree[True]) / n_eval,
        convention=convention,
    )


def _collapse(stats: ClassStats, convention: Convention = "paper") -> tuple[float, float]:
    """``(NC1, NC2)`` of one stage as :func:`~nc_core.metrics.metrics_from_stats` computes them (on
    unit-scaled statistics; NC2 divided by ``K^2`` in the paper convention); ``(nan, nan)`` if all class
    means coincide (the metrics are undefined there)."""
    if not bool((stats.centered_means != 0).any()):
        return float("nan"), float("nan")
    scaled = _unit_scale(stats)
    Mt = scaled.centered_means
    nc2 = _etf_distance(Mt @ Mt.T)
    return _nc1(scaled), nc2 / stats.num_classes**2 if convention == "paper" else nc2


def _ncc_correct(features: torch.Tensor, means: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Rows whose nearest class mean ``argmin_k ||h - mu_k||`` is their label (0-d int64, no host sync).

    ``||h - mu_k||^2 = ||h||^2 - 2 <mu_k, h> + ||mu_k||^2``, and ``||h||^2`` does not depend on ``k``.
    """
    h = features.to(torch.float64)
    predicted = ((means * means).sum(dim=1) - 2.0 * h @ means.T).argmin(dim=1)
    return (predicted == labels).sum()


def stage_table(
    model: nn.Module,
    loader: Iterable[Any],
    stages: Sequence[tuple[str, nn.Module]],
    num_classes: int,
    *,
    device: torch.device | str | None = None,
    convention: Convention = "paper",
) -> pd.DataFrame:
    """NC1, NC2 and nearest-class-centre accuracy of the output of every stage module, over ``loader``.

    A stage output ``a`` of shape ``(B, C, H, W)`` is reduced to ``(B, C)`` features by global average
    pooling, ``h_c = (1/HW) sum_ij a_cij`` (float64); a ``(B, p)`` output is taken as it is. Per stage, with
    class means ``mu_k``, ``M = [mu_k - mu_G]`` and ``Sigma_W`` as in Appendix B, all float64:
    ``NC1 = Tr(Sigma_W Sigma_B^+) / K`` (eq. 2, ``Sigma_B = M M^T / K``), ``NC2 = ||M^T M/||M^T M||_F -
    M*||_F / K^2`` (eq. 5; without ``1/K^2`` for ``convention="code"``), and ``ncc_acc = (1/N) #{n :
    argmin_k ||h_n - mu_k|| = y_n}`` (the nearest-class-centre rule of eq. 11 scored against the labels).
    NC1 and NC2 are NaN at a stage whose class means all coincide.

    Two passes over ``loader`` in eval mode without gradients (forward hooks feed one accumulator per
    stage, then the NCC predictions are scored against each stage's class means); the model's modes are
    restored and the hooks removed afterwards, also on an error.

    Args:
        model: any module, called as ``model(inputs)``.
        loader: re-iterable ``(inputs, labels)`` batches, labels in ``[0, num_classes)``, every class present.
        stages: ``(label, module)`` pairs in depth order; each module must run once per forward pass.
        num_classes: ``K``.
        device: where batches are sent; default the model's device.
        convention: ``"paper"`` or ``"code"`` (only NC2's ``1/K^2`` differs).

    Returns:
        One row per stage, columns :data:`LAYER_COLUMNS`: ``stage``, ``depth`` (0-based), ``dim`` (feature
        width), ``NC1``, ``NC2``, ``ncc_acc``.
    """
    if not stages:
        raise ValueError("no stages to measure: pass at least one layer")
    _single_pass_loader(loader, "train_loader")
    device = _default_device(model, device)
    targets: dict[str, tuple[nn.Module, _Take]] = {label: (module, "output") for label, module in stages}
    if len(targets) != len(stages):
        raise ValueError(f"stage labels must be distinct, got {[label for label, _ in stages]}")
    accs = {label: FeatureAccumulator(num_classes) for label in targets}
    with _evaluating(model), _hooked(targets) as captured:
        for i, x, y in _pairs(loader, "train_loader", device):
            where = f"train_loader batch {i}"
            features = _forward(model, x, captured, targets, len(y), where)
            for label, acc in accs.items():
                with _located(f"{where}, stage {label!r} (K = {num_classes})"):
                    acc.update(features[label], y)
        stats = {label: _finalised(acc, f"train_loader (K = {num_classes})") for label, acc in accs.items()}
        correct = dict.fromkeys(stats, 0)
        n = 0
        for i, x, y in _pairs(loader, "train_loader", device):
            features = _forward(model, x, captured, targets, len(y), f"train_loader batch {i}")
            for label, s in stats.items():
                correct[label] = correct[label] + _ncc_correct(features[label], s.means, y)
            n += len(y)
    rows = []
    for depth, (label, s) in enumerate(stats.items()):
        nc1, nc2 = _collapse(s, convention)
        rows.append((label, depth, s.feature_dim, nc1, nc2, float(correct[label]) / n))
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS))
