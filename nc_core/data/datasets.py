"""Image datasets as whole, normalised tensors on the target device.

:func:`load_dataset` reads the files with torchvision's own dataset classes (``MNIST``,
``FashionMNIST``, ``CIFAR10`` with ``download=False``), takes their ``.data`` / ``.targets``
arrays directly (no per-sample PIL transforms), optionally draws a balanced subset, moves the
``uint8`` images to the device and normalises them there in one go:

* pixels are scaled to [0, 1];
* 28x28 images (MNIST, FashionMNIST) are resized to 32x32 with
  ``torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False,
  antialias=False)`` on the whole tensor at once. That is what ``torchvision.transforms.Resize(32)``
  computes on a float tensor (antialiasing only matters when shrinking). The authors' pipeline
  (``Resize(32)`` on PIL images, then ``ToTensor``) goes through PIL's fixed-point bilinear filter
  and rounds back to ``uint8``; on MNIST and FashionMNIST the two differ by at most one grey level
  (1/255) per pixel before normalisation;
* each channel is normalised with the constants of :mod:`nc_core.data.specs`,
  ``(x - mean) / std``.

The result is a :class:`TensorData` holding ``float32`` images ``(N, C, 32, 32)`` and ``int64``
labels on the device.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .copies import COPYABLE, active_copy, read_copy
from .specs import DatasetSpec, get_spec

__all__ = ["IMAGE_SIZE", "TensorData", "balanced_subset_indices", "load_dataset", "normalise_images"]

#: Side of the square images :func:`load_dataset` returns.
IMAGE_SIZE = 32


@dataclass(eq=False)
class TensorData:
    """A whole dataset as two tensors on one device (a ``TensorDataset``-like object).

    Attributes:
        x: inputs - images ``(N, C, H, W)`` float32, vectors ``(N, dim)``, or sample indices ``(N,)``
            int64 for the unconstrained feature model.
        y: labels ``(N,)`` int64 in ``[0, num_classes)``.
        num_classes: number of classes ``K``.
        in_channels: image channels ``C``; for vector data the dimension ``dim``; for index data
            the number of samples (the size of the feature table).
        name: short name (``mnist``, ``cifar10``, ``separable`` ...).
    """

    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    in_channels: int
    name: str

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} samples but y has {self.y.shape[0]}")
        if self.y.dim() != 1:
            raise ValueError(f"y must be 1-D, got shape {tuple(self.y.shape)}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __getitem__(self, index: int | slice | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]

    @property
    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``, as ``torch.utils.data.TensorDataset.tensors``."""
        return self.x, self.y

    @property
    def device(self) -> torch.device:
        """Device of the tensors."""
        return self.x.device

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, ``x.shape[1:]``."""
        return tuple(self.x.shape[1:])

    def to(self, device: str | torch.device) -> TensorData:
        """A copy with both tensors on ``device`` (``self`` if they already are)."""
        device = torch.device(device)
        if self.x.device == device and self.y.device == device:
            return self
        return dataclasses.replace(self, x=self.x.to(device), y=self.y.to(device))

    def class_counts(self) -> torch.Tensor:
        """Number of samples of each class, ``(num_classes,)`` int64."""
        return torch.bincount(self.y, minlength=self.num_classes)


def balanced_subset_indices(
    labels: torch.Tensor, num_classes: int, per_class: int, seed: int = 0
) -> torch.Tensor:
    """Indices of a balanced random subset with exactly ``per_class`` samples of every class.

    Drawn on the CPU from ``torch.Generator().manual_seed(seed)``: class by class, a random
    permutation of that class's indices is cut to its first ``per_class`` entries. Each class
    consumes the generator independently of ``per_class``, so for one seed the subsets are nested
    (the subset for ``n`` is contained in the one for ``n + 1``). Returned sorted (original order).

    Raises:
        ValueError: ``per_class < 1`` or a class has fewer than ``per_class`` samples.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"subset_per_class must be a positive integer, got {per_class!r}")
    labels = labels.detach().to("cpu", torch.int64)
    gen = torch.Generator().manual_seed(int(seed))
    picks = []
    for c in range(num_classes):
        idx = torch.nonzero(labels == c).flatten()
        if idx.numel() < per_class:
            raise ValueError(
                f"class {c} has only {idx.numel()} samples, fewer than subset_per_class={per_class}"
            )
        picks.append(idx[torch.randperm(idx.numel(), generator=gen)[:per_class]])
    return torch.sort(torch.cat(picks)).values


def normalise_images(
    images: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    size: int = IMAGE_SIZE,
) -> torch.Tensor:
    """``uint8`` images ``(N, C, H, W)`` -> normalised float32 ``(N, C, size, size)``, on their device.

    Scales to [0, 1], resizes with bilinear interpolation (``align_corners=False``,
    ``antialias=False``, the whole tensor at once) when ``H, W != size``, then ``(x - mean) / std``
    per channel.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if len(mean) != images.shape[1] or len(std) != images.shape[1]:
        raise ValueError(f"{images.shape[1]} channels but {len(mean)} means and {len(std)} stds")
    x = images.to(torch.float32).div_(255.0)
    if tuple(x.shape[-2:]) != (size, size):
        x = torch.nn.functional.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=False
        )
    m = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return x.sub_(m).div_(s)


def _fetch_hint(spec: DatasetSpec, root: Path) -> str:
    root_arg = "" if str(root) == "data" else f" --root {root}"
    return f"run `python -m nc_core data fetch {spec.key}{root_arg}`"


def _read_raw(
    spec: DatasetSpec, root: Path, train: bool, copy: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images ``(N, C, H, W)`` and int64 labels ``(N,)`` on the CPU, via torchvision (the original
    files) or from the imported substitute ``copy`` (:mod:`nc_core.data.copies`)."""
    if copy is not None:
        x_np, y_np = read_copy(spec.key, root, train, copy)
        return torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y_np)
    folder = root / spec.folder
    missing = [f for f in spec.files if not (folder / f).is_file()]
    if missing:
        imported = active_copy(spec.key, root) if spec.key in COPYABLE else None
        also = (
            f" (a substitute, {imported.copy_id}, is imported: runs planned with this data root use it, and "
            "say so)"
            if imported
            else ""
        )
        raise FileNotFoundError(
            f"{spec.title} is not available: {', '.join(missing)} not found in {folder}{also}. "
            f"To fetch it, {_fetch_hint(spec, root)}."
        )
    stamp = tuple((f, st.st_size, st.st_mtime_ns) for f in sorted(spec.files) for st in [(folder / f).stat()])
    return _read_original(spec.key, str(root), train, stamp)


@functools.lru_cache(maxsize=4)
def _read_original(
    key: str, root: str, train: bool, stamp: tuple[tuple[str, int, int], ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The original files of one split through torchvision, read once per process while ``stamp`` (each
    file's size and modification time) holds: a sweep trains many runs on one dataset in one process, and
    reading FashionMNIST's training files took 0.08 s of a 0.6 s smoke run. Callers never change the
    tensors in place."""
    import torchvision.datasets as tvd

    spec = get_spec(key)
    folder = Path(root) / spec.folder
    cls = getattr(tvd, spec.torchvision_class)
    try:
        ds = cls(root, train=train, download=False)
    except RuntimeError as exc:  # torchvision: "Dataset not found or corrupted"
        raise FileNotFoundError(
            f"torchvision could not load {spec.title} from {folder} ({exc}). Check the files with "
            f"`python -m nc_core data status --root {root}`; to (re)fetch them, {_fetch_hint(spec, root)}."
        ) from exc
    except (ValueError, TypeError, KeyError, EOFError, OSError) as exc:
        raise ValueError(
            f"the {spec.title} files in {folder} could not be parsed ({type(exc).__name__}: {exc}); they "
            f"look corrupted. Check them with `python -m nc_core data status --root {root}`."
        ) from exc
    data, targets = ds.data, ds.targets
    x = torch.as_tensor(data)
    if x.dim() == 3:  # MNIST-like: (N, H, W)
        x = x.unsqueeze(1)
    elif x.dim() == 4 and x.shape[-1] == spec.in_channels:  # CIFAR: numpy (N, H, W, C)
        x = x.permute(0, 3, 1, 2)
    else:
        raise ValueError(f"unexpected {spec.title} image array of shape {tuple(x.shape)}")
    if x.dtype != torch.uint8:
        raise ValueError(f"unexpected {spec.title} image dtype {x.dtype} (expected uint8)")
    y = torch.as_tensor(targets, dtype=torch.int64)
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= spec.num_classes):
        raise ValueError(f"{spec.title} labels outside [0, {spec.num_classes})")
    return x.contiguous(), y


def load_dataset(
    name: str,
    *,
    root: str | os.PathLike[str] = "data",
    train: bool = True,
    device: str | torch.device = "cpu",
    subset_per_class: int | None = None,
    seed: int = 0,
    copy: str | None = None,
) -> TensorData:
    """Load MNIST, FashionMNIST or CIFAR-10 as normalised tensors on ``device``.

    Args:
        name: ``mnist``, ``fashionmnist`` or ``cifar10`` (case-insensitive, ``-``/``_`` ignored).
        root: data root (torchvision's ``root``): ``root/MNIST/raw``, ``root/FashionMNIST/raw``,
            ``root/cifar-10-batches-py``.
        train: training split (``True``) or test split.
        device: where the returned tensors live.
        subset_per_class: if given, a balanced subset with exactly this many samples per class
            (see :func:`balanced_subset_indices`), drawn with ``seed``.
        seed: seed of the subset draw.
        copy: the copy id of an imported substitute to read instead of the original files (see
            :mod:`nc_core.data.copies`); it must be the copy imported under ``root``.

    Returns:
        :class:`TensorData` with ``x`` float32 ``(N, C, 32, 32)`` normalised as described in the
        module docstring, ``y`` int64 ``(N,)``.

    Raises:
        FileNotFoundError: the files are missing (the message says to run
            ``python -m nc_core data fetch NAME``) or torchvision rejects them.
        ValueError: unknown name, unparsable files, or a class smaller than ``subset_per_class``.
        CopyError: (a ``ValueError``) ``copy`` is not the copy imported under ``root``.
    """
    spec = get_spec(name)
    raw_x, raw_y = _read_raw(spec, Path(root), train, copy)
    if subset_per_class is not None:
        idx = balanced_subset_indices(raw_y, spec.num_classes, subset_per_class, seed)
        raw_x, raw_y = raw_x[idx], raw_y[idx]
    device = torch.device(device)
    x = normalise_images(raw_x.to(device), spec.mean, spec.std, IMAGE_SIZE)
    y = raw_y.to(device, copy=True)  # never the cached labels themselves (_read_original)
    return TensorData(x=x, y=y, num_classes=spec.num_classes, in_channels=spec.in_channels, name=spec.key)
