"""Data: the image datasets of the paper as on-device tensors, their fetching and verification,
a device-side minibatch loader, and synthetic datasets.

* :func:`load_dataset` -> :class:`TensorData` - MNIST / FashionMNIST / CIFAR-10, normalised,
  ``(N, C, 32, 32)`` float32 on the target device, optional balanced subset.
* :class:`TensorLoader` - seeded, resumable minibatches over on-device tensors.
* :func:`fetch_dataset` / :func:`check_dataset` - obtain and verify the files under ``data/``
  (CLI: ``python -m nc_core data fetch NAME`` and ``python -m nc_core data status``).
* :func:`import_copy` - a dataset from a local copy (the original files, or a named substitute such as a
  JPEG copy of CIFAR-10, whose id travels with every run: :func:`active_copy`, :func:`copy_label`).
* :func:`load_image_folder` -> :class:`ImageFolderData` - ImageNet-1K (ImageFolder layout under
  ``data/imagenet``), streamed from disk through a ``DataLoader`` (:class:`FolderLoader`) with
  torchvision's standard transforms; :func:`check_image_folder` says whether the folders are there.
* :func:`separable_data`, :func:`gaussian_classes`, :func:`ufm_indices` - synthetic data.
* :func:`data_sizes` / :func:`train_size` - a run's training and test set sizes from its configuration (the
  one home of that fact: the cost model and the optimizer-step counts ask it).
* :data:`DATASETS` - name -> :class:`DatasetSpec` (folders, checksums, normalisation constants, sizes,
  class names, display title); :data:`SYNTHETIC_SPECS` - how each generated dataset is sized;
  :data:`IMAGE_DATASETS` (of which :data:`FOLDER_DATASETS` are streamed) and :data:`SYNTHETIC_DATASETS` -
  the names a run can train on.
"""

from .copies import COPYABLE, CopyError, CopyInfo, active_copy, copy_label, import_copy
from .datasets import IMAGE_SIZE, TensorData, balanced_subset_indices, load_dataset, normalise_images
from .fetch import DatasetStatus, FetchError, FetchStep, check_dataset, default_steps, fetch_dataset
from .folder import (
    FolderLoader,
    FolderStatus,
    ImageFolderData,
    check_image_folder,
    default_workers,
    folder_dataset_root,
    folder_options_problem,
    imagenet_transform,
    load_image_folder,
)
from .loader import TensorLoader, epoch_permutation
from .specs import (
    DATASETS,
    DEFAULT_N_PER_CLASS,
    FOLDER_DATASETS,
    FOLDER_SIZES,
    IMAGE_DATASETS,
    SYNTHETIC_SPECS,
    DatasetSpec,
    SyntheticSpec,
    canonical_name,
    data_sizes,
    get_spec,
    train_size,
)
from .synthetic import SYNTHETIC_DATASETS, gaussian_classes, separable_data, separable_directions, ufm_indices

__all__ = [
    "COPYABLE",
    "CopyError",
    "CopyInfo",
    "DATASETS",
    "DEFAULT_N_PER_CLASS",
    "FOLDER_DATASETS",
    "FOLDER_SIZES",
    "IMAGE_DATASETS",
    "IMAGE_SIZE",
    "SYNTHETIC_DATASETS",
    "SYNTHETIC_SPECS",
    "DatasetSpec",
    "DatasetStatus",
    "FetchError",
    "FetchStep",
    "FolderLoader",
    "FolderStatus",
    "ImageFolderData",
    "SyntheticSpec",
    "TensorData",
    "TensorLoader",
    "active_copy",
    "balanced_subset_indices",
    "canonical_name",
    "check_dataset",
    "check_image_folder",
    "copy_label",
    "data_sizes",
    "default_steps",
    "default_workers",
    "epoch_permutation",
    "fetch_dataset",
    "folder_dataset_root",
    "folder_options_problem",
    "gaussian_classes",
    "get_spec",
    "imagenet_transform",
    "import_copy",
    "load_dataset",
    "load_image_folder",
    "normalise_images",
    "separable_data",
    "separable_directions",
    "train_size",
    "ufm_indices",
]
