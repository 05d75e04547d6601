"""ImageNet-1K (or any dataset in its ImageFolder layout), streamed from disk through a ``DataLoader``.

ImageNet does not fit in memory, so unlike :class:`~nc_core.data.TensorData` it is never loaded whole:
:func:`load_image_folder` lists the files and returns an :class:`ImageFolderData`, whose
:meth:`~ImageFolderData.loader` (training, augmented) and :meth:`~ImageFolderData.eval_batches` (the
metric pass, un-augmented) decode and transform the images in ``DataLoader`` worker processes and hand
normalised ``float32`` batches ``(B, 3, S, S)`` (channels_last) and ``int64`` labels to the device.

Layout (torchvision's ``ImageFolder``; what ``torchvision.datasets.ImageNet`` builds from the official
ILSVRC2012 archives)::

    <root>/train/<wnid>/*.JPEG    1,281,167 training images in 1,000 class folders (WordNet ids)
    <root>/val/<wnid>/*.JPEG      the 50,000 validation images, sorted into the same class folders

``<root>`` is ``<data root>/imagenet`` unless the run's ``data_kwargs`` give ``{"root": ...}``. Labels
are the indices of the class folders in sorted order (``n01440764`` -> 0), as ``ImageFolder`` assigns
them; the validation folder must hold the same classes. The validation set is the run's test set.

Transforms: torchvision's standard ImageNet recipe at side ``S`` (``data_kwargs["image_size"]``, 224 by
default; tests use tiny images):

* training: ``RandomResizedCrop(S)`` (scale (0.08, 1), ratio (3/4, 4/3), bilinear),
  ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize(mean, std)``;
* evaluation (the metric pass over the training *and* the validation images):
  ``Resize(round(S * 256 / 224))`` (shorter side), ``CenterCrop(S)``, ``ToTensor()``, ``Normalize``;

with the ImageNet channel statistics ``mean = (0.485, 0.456, 0.406)``, ``std = (0.229, 0.224, 0.225)``.

Reproducibility: the order of training epoch ``e`` is :func:`~nc_core.data.epoch_permutation` of
``(seed, e)`` (the order :class:`~nc_core.data.TensorLoader` would use), and the crop and flip of each
sample are drawn under a per-sample seed taken from the same generator, so an epoch's batches are a pure
function of ``(seed, e)`` whatever the number of workers, and a resumed run sees the same batches.

Workers (``num_workers``) are an execution setting, not part of a run's identity: by default
``$NC_CORE_DATA_WORKERS`` if set, else ``min(8, CPUs of the process)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .datasets import balanced_subset_indices
from .loader import EpochState, _epoch_seed

__all__ = [
    "DEFAULT_IMAGE_SIZE",
    "FOLDER_OPTIONS",
    "IMAGENET_FOLDER",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "WORKERS_ENV",
    "FolderLoader",
    "FolderStatus",
    "ImageFolderData",
    "check_image_folder",
    "default_workers",
    "folder_dataset_root",
    "folder_options_problem",
    "imagenet_transform",
    "load_image_folder",
]

#: ImageNet training-set channel statistics (torchvision's reference recipe).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Side of the square crops by default.
DEFAULT_IMAGE_SIZE = 224
#: Folder of ImageNet under the data root.
IMAGENET_FOLDER = "imagenet"
#: The ``data_kwargs`` a folder dataset takes.
FOLDER_OPTIONS: dict[str, tuple[str, ...]] = {"imagenet": ("image_size", "root")}
#: Environment variable setting the DataLoader workers of every run (execution only: not in the run id).
WORKERS_ENV = "NC_CORE_DATA_WORKERS"
_MAX_DEFAULT_WORKERS = 8
_TITLE = "ImageNet-1K"


def default_workers() -> int:
    """DataLoader workers per run: ``$NC_CORE_DATA_WORKERS`` if set, else ``min(8, CPUs of this process)``."""
    text = os.environ.get(WORKERS_ENV)
    if text is not None and text.strip():
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(
                f"${WORKERS_ENV} must be an integer >= 0 (0: load in the main process), got {text!r}"
            )
        return value
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(_MAX_DEFAULT_WORKERS, cpus)


def folder_options_problem(name: str, kwargs: Mapping[str, Any]) -> str | None:
    """Why ``kwargs`` are not valid ``data_kwargs`` of folder dataset ``name``, or ``None``."""
    allowed = FOLDER_OPTIONS[name]
    if unknown := sorted(set(kwargs) - set(allowed)):
        return (
            f"unknown dataset option(s) {unknown} in data_kwargs for {name!r}; its options: "
            f'{", ".join(allowed)} (e.g. {{"root": "/data/imagenet", "image_size": 224}})'
        )
    size = kwargs.get("image_size", DEFAULT_IMAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return f"data_kwargs image_size of {name!r} must be an integer >= 1, got {size!r}"
    root = kwargs.get("root")
    if root is not None and not isinstance(root, str | os.PathLike):
        return f"data_kwargs root of {name!r} must be a path, got {root!r}"
    return None


def folder_dataset_root(
    name: str, data_root: str | os.PathLike[str], data_kwargs: Mapping[str, Any] | None = None
) -> Path:
    """Where folder dataset ``name`` lives: ``data_kwargs["root"]`` if given, else
    ``<data_root>/imagenet``."""
    if name not in FOLDER_OPTIONS:
        raise ValueError(f"{name!r} is not a folder dataset (those are: {', '.join(FOLDER_OPTIONS)})")
    root = (data_kwargs or {}).get("root")
    return Path(root) if root is not None else Path(data_root) / IMAGENET_FOLDER


def imagenet_transform(image_size: int = DEFAULT_IMAGE_SIZE, *, train: bool) -> Any:
    """torchvision's standard ImageNet transform at side ``image_size`` (see the module docstring)."""
    from torchvision import transforms as T

    normalise = [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    if train:
        return T.Compose([T.RandomResizedCrop(image_size), T.RandomHorizontalFlip(), *normalise])
    return T.Compose([T.Resize(round(image_size * 256 / 224)), T.CenterCrop(image_size), *normalise])


# ---------------------------------------------------------------------------------------------
# Presence of the files


def _layout(folder: Path) -> str:
    return f"{folder}/train/<wnid>/*.JPEG and {folder}/val/<wnid>/*.JPEG"


@dataclass(frozen=True)
class FolderStatus:
    """Whether an ImageFolder dataset is in place (the folder counterpart of ``DatasetStatus``).

    Only the folders are checked (``train/`` and ``val/`` with the same class folders), not the images:
    there is no checksum table for a folder dataset, and listing 1.3 million files is the loader's job.

    Attributes:
        folder: the dataset's folder (``<data root>/imagenet``).
        state: ``"ok"``, ``"missing"`` (no ``train/`` or ``val/`` with class folders) or ``"incomplete"``
            (train and val hold different class folders).
        detail: what was found.
        num_classes: class folders in ``train/`` (``None`` if there is none).
    """

    folder: Path
    state: str
    detail: str
    num_classes: int | None = None
    title: str = _TITLE

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def summary(self) -> str:
        """One line: the folder and what is there, with the expected layout when something is missing."""
        if self.ok:
            return f"{self.title} at {self.folder}: {self.detail}"
        return (
            f"{self.title} is not available: {self.detail}. Expected the ImageFolder layout "
            f"{_layout(self.folder)} (one folder per class named by its WordNet id, the validation "
            "images sorted into the same class folders). nc_core cannot download ImageNet (it needs an "
            "image-net.org account): put ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar and "
            f'ILSVRC2012_devkit_t12.tar.gz in {self.folder} and run `python -c "import torchvision.datasets '
            f"as d; d.ImageNet('{self.folder}', split='train'); d.ImageNet('{self.folder}', split='val')\"`, "
            "which unpacks them into that layout; a copy elsewhere is found with --data-root (ImageNet is "
            'read from <data root>/imagenet) or data_kwargs {"root": ...}'
        )


def _class_folders(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.is_dir())


def check_image_folder(folder: str | os.PathLike[str]) -> FolderStatus:
    """Check that ``folder`` has ``train/`` and ``val/`` with the same (non-empty) set of class folders."""
    folder = Path(folder)
    found: dict[str, list[str]] = {}
    for split in ("train", "val"):
        path = folder / split
        if not path.is_dir():
            what = f"{folder} does not exist" if not folder.exists() else f"{path} does not exist"
            return FolderStatus(folder, "missing", what, len(found["train"]) if found else None)
        classes = _class_folders(path)
        if not classes:
            return FolderStatus(
                folder, "missing", f"{path} has no class folders", len(found.get("train", [])) or None
            )
        found[split] = classes
    train, val = found["train"], found["val"]
    if train != val:
        only_train, only_val = sorted(set(train) - set(val)), sorted(set(val) - set(train))
        detail = (
            f"train/ has {len(train)} class folders and val/ {len(val)}; "
            f"missing from val/: {only_train[:5]}{' ...' if len(only_train) > 5 else ''}, "
            f"missing from train/: {only_val[:5]}{' ...' if len(only_val) > 5 else ''}"
        )
        return FolderStatus(folder, "incomplete", detail, len(train))
    return FolderStatus(
        folder, "ok", f"{len(train)} classes in train/ and val/ (images not counted)", len(train)
    )


# ---------------------------------------------------------------------------------------------
# The dataset, its loader and its evaluation batches


class _Images(torch.utils.data.Dataset):
    """Decodes and transforms one image per key: an index, or ``(index, seed)`` to draw the random
    transform under ``torch.manual_seed(seed)`` (the caller's RNG state is left untouched)."""

    def __init__(self, paths: np.ndarray, targets: np.ndarray, transform: Any) -> None:
        # paths as one fixed-width bytes array: no per-item Python objects whose reference counts would
        # copy the parent's memory page by page into every forked worker
        self.paths, self.targets, self.transform = paths, targets, transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        from torchvision.datasets.folder import default_loader

        index, seed = key if isinstance(key, tuple) else (key, None)
        image = default_loader(os.fsdecode(self.paths[index]))  # PIL, converted to RGB
        if seed is None:
            x = self.transform(image)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                x = self.transform(image)
        return x, int(self.targets[index])


def _to_device(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    non_blocking = device.type == "cuda"  # pinned by the DataLoader: the copy does not block the host
    x = x.to(device, non_blocking=non_blocking, memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=non_blocking)


class ImageFolderData:
    """An ImageFolder split on disk, streamed in batches: the counterpart of :class:`~nc_core.data.TensorData`
    for data that does not fit in memory (same ``num_classes``, ``in_channels``, ``name``, ``device``,
    ``input_shape``, ``len()``, ``class_counts()``).

    Build one with :func:`load_image_folder`. Training batches come from :meth:`loader`, the metric pass's
    from :meth:`eval_batches`; both are on :attr:`device`.

    Attributes:
        paths: the image files, ``(N,)`` bytes array (``os.fsencode`` of each path).
        targets: labels ``(N,)`` int64 on the CPU.
        classes: the class folder names (WordNet ids), in label order.
        image_size: side ``S`` of the crops.
        num_workers: DataLoader worker processes (0: decode in the calling process).
        root, split: where the files are (``root/split/<class>/...``).
    """

    in_channels = 3

    def __init__(
        self,
        paths: np.ndarray,
        targets: torch.Tensor,
        classes: list[str],
        *,
        name: str = "imagenet",
        image_size: int = DEFAULT_IMAGE_SIZE,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
        root: Path | None = None,
        split: str = "train",
    ) -> None:
        if len(paths) != len(targets):
            raise ValueError(f"{len(paths)} paths but {len(targets)} targets")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        self.paths = paths
        self.targets = torch.as_tensor(targets, dtype=torch.int64).cpu()
        self.classes = list(classes)
        self.num_classes = len(self.classes)
        self.name = name
        self.image_size = int(image_size)
        self._device = torch.device(device)
        self.num_workers = num_workers
        self.root, self.split = root, split

    def __len__(self) -> int:
        return len(self.targets)

    def __repr__(self) -> str:
        return (
            f"ImageFolderData({self.name}/{self.split}: n={len(self)}, classes={self.num_classes}, "
            f"image_size={self.image_size}, device={self.device}, num_workers={self.num_workers})"
        )

    @property
    def device(self) -> torch.device:
        """Where the batches are delivered."""
        return self._device

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(3, S, S)``."""
        return (self.in_channels, self.image_size, self.image_size)

    def to(self, device: str | torch.device) -> ImageFolderData:
        """A copy whose batches go to ``device`` (``self`` if they already do)."""
        device = torch.device(device)
        if device == self.device:
            return self
        out = object.__new__(ImageFolderData)
        out.__dict__.update(self.__dict__)
        out._device = device
        return out

    def class_counts(self) -> torch.Tensor:
        """Number of samples of each class, ``(num_classes,)`` int64."""
        return torch.bincount(self.targets, minlength=self.num_classes)

    def dataset(self, *, train: bool) -> torch.utils.data.Dataset:
        """The map-style dataset with the training (augmenting, keys ``(index, seed)``) or the evaluation
        transform (keys: indices)."""
        transform = imagenet_transform(self.image_size, train=train)
        return _Images(self.paths, self.targets.numpy(), transform)

    def loader(
        self,
        batch_size: int = 128,
        shuffle: bool = True,
        *,
        seed: int = 0,
        drop_last: bool = False,
        epoch: int = 0,
    ) -> FolderLoader:
        """Augmented training batches, seeded and resumable like :class:`~nc_core.data.TensorLoader`."""
        return FolderLoader(self, batch_size, shuffle, seed=seed, drop_last=drop_last, epoch=epoch)

    def eval_batches(self, batch_size: int = 1024) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Every sample once, in order, with the evaluation transform: ``(x, y)`` batches on the device."""
        loader = torch.utils.data.DataLoader(
            self.dataset(train=False), batch_size=batch_size, shuffle=False, num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
        )  # fmt: skip
        for x, y in loader:
            yield _to_device(x, y, self.device)


class _KeyBatches:
    """The batch sampler of :class:`FolderLoader`: slices of the current epoch's ``(index, seed)`` keys."""

    def __init__(self, n: int, batch_size: int, drop_last: bool) -> None:
        self.n, self.batch_size, self.drop_last = n, batch_size, drop_last
        self.keys: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        keys, bs = self.keys, self.batch_size
        for b in range(len(self)):
            yield keys[b * bs : (b + 1) * bs]


class FolderLoader(EpochState):
    """Training batches of an :class:`ImageFolderData`: the streaming counterpart of
    :class:`~nc_core.data.TensorLoader` (same ``len()``, ``epoch``, ``set_epoch``, ``state_dict``,
    ``load_state_dict``, ``permutation``, ``device``).

    Each ``iter(loader)`` uses epoch :attr:`epoch` and then advances it. The epoch's generator
    (seeded from ``(seed, epoch)`` as :func:`~nc_core.data.epoch_permutation`'s) first draws the order, then
    one seed per position for that sample's random crop and flip. The ``DataLoader`` is built at the first
    iteration and keeps its workers between epochs (``persistent_workers``).
    """

    def __init__(
        self,
        data: ImageFolderData,
        batch_size: int = 128,
        shuffle: bool = True,
        *,
        seed: int = 0,
        drop_last: bool = False,
        epoch: int = 0,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.data = data
        self.num_samples = len(data)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = int(epoch)
        self._batches = _KeyBatches(self.num_samples, batch_size, drop_last)
        self._loader: torch.utils.data.DataLoader | None = None

    def __len__(self) -> int:
        return len(self._batches)

    @property
    def device(self) -> torch.device:
        return self.data.device

    def keys(self, epoch: int | None = None) -> list[tuple[int, int]]:
        """The ``(sample index, transform seed)`` pairs of ``epoch`` (default: the next one), in order."""
        n = self.num_samples
        gen = torch.Generator().manual_seed(_epoch_seed(self.seed, self.epoch if epoch is None else epoch))
        order = torch.randperm(n, generator=gen) if self.shuffle else torch.arange(n)
        seeds = torch.randint(0, 2**62, (n,), generator=gen)
        return list(zip(order.tolist(), seeds.tolist(), strict=True))

    def permutation(self, epoch: int | None = None) -> torch.Tensor | None:
        """The order of ``epoch`` (default: the next one), or ``None`` without shuffling."""
        if not self.shuffle:
            return None
        return torch.tensor([i for i, _ in self.keys(epoch)], dtype=torch.int64)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self._batches.keys = self.keys(self.epoch)
        self.epoch += 1
        if self._loader is None:
            workers = self.data.num_workers
            self._loader = torch.utils.data.DataLoader(
                self.data.dataset(train=True), batch_sampler=self._batches, num_workers=workers,
                pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
            )  # fmt: skip
        return self._iterate(iter(self._loader))

    def _iterate(self, it: Iterator[Any]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in it:
            yield _to_device(x, y, self.device)

    def __repr__(self) -> str:
        return (
            f"FolderLoader(n={self.num_samples}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"seed={self.seed}, epoch={self.epoch}, workers={self.data.num_workers}, device={self.device})"
        )


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    train: bool = True,
    image_size: int = DEFAULT_IMAGE_SIZE,
    device: str | torch.device = "cpu",
    subset_per_class: int | None = None,
    seed: int = 0,
    num_workers: int | None = None,
    name: str = "imagenet",
) -> ImageFolderData:
    """List one split of the ImageFolder dataset at ``root`` (``train/`` or ``val/``) as an
    :class:`ImageFolderData`; no image is read here.

    Args:
        root: the dataset folder (holding ``train/`` and ``val/``).
        train: the training split (``True``) or the validation split.
        image_size: side of the crops the transforms produce.
        device: where the batches go.
        subset_per_class: if given, a balanced subset with exactly this many images per class
            (:func:`~nc_core.data.balanced_subset_indices`, drawn with ``seed``).
        num_workers: DataLoader workers (default :func:`default_workers`).

    Raises:
        FileNotFoundError: the folders are missing or do not match (the message names the expected layout
            and the path), or a class folder holds no image.
        ValueError: a class smaller than ``subset_per_class``, or a bad option.
    """
    from torchvision.datasets import ImageFolder

    folder = Path(root)
    if problem := folder_options_problem(name, {"image_size": image_size}):
        raise ValueError(problem)
    status = check_image_folder(folder)
    if not status.ok:
        raise FileNotFoundError(status.summary())
    split = "train" if train else "val"
    try:
        listing = ImageFolder(str(folder / split))
    except FileNotFoundError as err:  # a class folder without any image file
        raise FileNotFoundError(f"{status.title} at {folder} is incomplete: {err}") from None
    targets = torch.as_tensor(listing.targets, dtype=torch.int64)
    paths = np.array([os.fsencode(path) for path, _ in listing.samples])
    if subset_per_class is not None:
        idx = balanced_subset_indices(targets, len(listing.classes), subset_per_class, seed)
        paths, targets = paths[idx.numpy()], targets[idx]
    return ImageFolderData(
        paths, targets, listing.classes, name=name, image_size=image_size, device=device,
        num_workers=default_workers() if num_workers is None else num_workers, root=folder, split=split,
    )  # fmt: skip
