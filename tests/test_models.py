"""Models of nc_core.models: hand-derived parameter counts, shapes, the uniform interface, width
scaling, the UFM's indexing, BatchNorm train/eval behaviour, bad input and weight-decay groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nc_core.models import (
    MLP,
    MODEL_NAMES,
    UFM,
    VGG9,
    FeatureClassifier,
    ResNet9,
    ViT,
    make_model,
    param_groups_for_decay,
)

SMALL = 0.125  # ResNet9 8-16-32-64, VGG9 8-16-32-32-64-64-64-64, ViT hidden 64: fast on a CPU
K = 10


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# Parameter counts derived by hand (full width, K = 10).


def conv_bn_params(c_in: int, c_out: int) -> int:
    # Conv2d 3x3 with bias: 9 * c_in * c_out weights + c_out biases; BatchNorm2d: c_out weight + c_out bias.
    return 9 * c_in * c_out + c_out + 2 * c_out


def linear_params(d_in: int, d_out: int) -> int:
    return d_in * d_out + d_out


def resnet9_count(c: int) -> int:
    return (
        conv_bn_params(c, 64)  # prep
        + conv_bn_params(64, 128)  # layer1 (+ pool)
        + 2 * conv_bn_params(128, 128)  # res1
        + conv_bn_params(128, 256)  # layer2 (+ pool)
        + conv_bn_params(256, 512)  # layer3 (+ pool)
        + 2 * conv_bn_params(512, 512)  # res3
        + linear_params(512, K)  # classifier
    )


def vgg9_count(c: int) -> int:
    convs = [(c, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
    return sum(conv_bn_params(a, b) for a, b in convs) + linear_params(512, K)


def vit_count(c: int, d: int = 512, depth: int = 6, patch: int = 4, n_patches: int = 64) -> int:
    patch_embed = c * patch * patch * d + d  # Conv2d(c, d, 4, stride 4) with bias
    cls_token = d
    pos_embed = (n_patches + 1) * d
    layer_norm = 2 * d
    block = (
        layer_norm
        + linear_params(d, 3 * d)  # fused q, k, v with biases
        + linear_params(d, d)  # attention output projection
        + layer_norm
        + linear_params(d, 4 * d)  # MLP up
        + linear_params(4 * d, d)  # MLP down
    )
    return patch_embed + cls_token + pos_embed + depth * block + layer_norm + linear_params(d, K)


def test_hand_counts_spelled_out():
    # The same numbers, term by term, for the 3-channel models (so a reader can check the helpers).
    resnet9_rgb = (
        (9 * 3 * 64 + 64 + 128)  # 1_920
        + (9 * 64 * 128 + 128 + 256)  # 74_112
        + 2 * (9 * 128 * 128 + 128 + 256)  # 295_680
        + (9 * 128 * 256 + 256 + 512)  # 295_680
        + (9 * 256 * 512 + 512 + 1024)  # 1_181_184
        + 2 * (9 * 512 * 512 + 512 + 1024)  # 4_721_664
        + (512 * 10 + 10)  # 5_130
    )
    assert resnet9_rgb == resnet9_count(3) == 6_575_370
    assert resnet9_count(1) == 6_575_370 - 9 * 2 * 64 == 6_574_218
    assert vgg9_count(3) == 9_231_114
    assert vgg9_count(1) == 9_231_114 - 9 * 2 * 64 == 9_229_962
    vit_rgb = 25_088 + 512 + 65 * 512 + 6 * 3_152_384 + 1_024 + 5_130
    assert vit_rgb == vit_count(3) == 18_979_338
    assert vit_count(1) == 18_979_338 - 2 * 16 * 512 == 18_962_954


@pytest.mark.parametrize("c", [1, 3])
def test_param_counts_full_width(c):
    assert n_params(make_model("resnet9", num_classes=K, in_channels=c)) == resnet9_count(c)
    assert n_params(make_model("vgg9", num_classes=K, in_channels=c)) == vgg9_count(c)
    assert n_params(make_model("vit", num_classes=K, in_channels=c)) == vit_count(c)


def test_param_counts_mlp_ufm():
    m = make_model("mlp", num_classes=3, in_features=2, hidden=(64, 32))
    assert n_params(m) == (2 * 64 + 64) + (64 * 32 + 32) + (32 * 3 + 3)
    u = make_model("ufm", num_classes=K, num_samples=100, feature_dim=512)
    assert n_params(u) == 100 * 512 + 512 * K  # H, W (no bias)


def test_full_width_architecture_details():
    vit = make_model("vit")
    assert (vit.feature_dim, vit.num_heads, vit.depth, len(vit.backbone.blocks)) == (512, 8, 6, 6)
    assert vit.backbone.pos_embed.shape == (1, 65, 512)
    assert not any(isinstance(m, nn.Dropout) for m in vit.modules())
    assert isinstance(vit.backbone.norm, nn.LayerNorm)
    assert isinstance(make_model("vit", final_norm=False).backbone.norm, nn.Identity)
    r = make_model("resnet9", num_classes=100)
    assert r.classifier.weight.shape == (100, 512) and r.classifier.bias is not None
    convs = [m for m in make_model("vgg9").modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert all(m.bias is not None and m.kernel_size == (3, 3) and m.padding == (1, 1) for m in convs)


# ---------------------------------------------------------------------------------------------
# Shapes and the uniform interface.


def small_model(name: str, c: int = 3, **kw) -> FeatureClassifier:
    if name == "mlp":
        kw.setdefault("in_features", c * 32 * 32)
    if name == "ufm":
        kw.setdefault("num_samples", 50)
    return make_model(name, num_classes=K, in_channels=c, width=SMALL, **kw)


def small_input(name: str, c: int = 3, b: int = 4) -> torch.Tensor:
    if name == "ufm":
        return torch.tensor([0, 7, 3, 49])[:b]
    return torch.randn(b, c, 32, 32)


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("c", [1, 3])
def test_shapes_and_interface(name, c):
    torch.manual_seed(0)
    model = small_model(name, c).eval()
    x = small_input(name, c)
    p = model.feature_dim
    with torch.no_grad():
        logits = model(x)
        feats = model.features(x)
        logits2, feats2 = model.forward_with_features(x)
    assert isinstance(model, FeatureClassifier)
    assert isinstance(model.classifier, nn.Linear)
    assert model.classifier.weight.shape == (K, p)
    assert model.num_classes == K
    assert logits.shape == (4, K) and feats.shape == (4, p)
    torch.testing.assert_close(logits2, logits, rtol=0, atol=0)
    torch.testing.assert_close(feats2, feats, rtol=0, atol=0)
    torch.testing.assert_close(model.classifier(feats), logits)
    torch.testing.assert_close(model.backbone(x), feats)


def test_mlp_flat_input_and_image_flattening():
    m = make_model("mlp", num_classes=2, in_features=2)
    assert m.feature_dim == 64 and m.hidden == (64, 64)
    assert m(torch.randn(5, 2)).shape == (5, 2)
    img = make_model("mlp", num_classes=K, in_channels=1, hidden=(16,))
    x = torch.randn(3, 1, 32, 32)
    torch.testing.assert_close(img(x), img(x.flatten(1)))
    feats = img.features(x)
    assert feats.shape == (3, 16) and (feats >= 0).all()  # post-ReLU features


def test_channels_last_matches():
    torch.manual_seed(0)
    for name in ("resnet9", "vgg9", "vit"):
        model = small_model(name).eval()
        x = torch.randn(3, 3, 32, 32)
        with torch.no_grad():
            ref = model(x)
            out = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
        torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Width multiplier.


@pytest.mark.parametrize(
    ("name", "width", "p"),
    [
        ("resnet9", 1.0, 512),
        ("resnet9", 0.125, 64),
        ("resnet9", 0.5, 256),
        ("vgg9", 0.25, 128),
        ("vit", 0.125, 64),
        ("ufm", 0.25, 128),
        ("mlp", 0.5, 32),
        ("resnet9", 1e-6, 1),  # at least one channel
    ],
)
def test_width_sets_feature_dim(name, width, p):
    kw = {"num_samples": 4} if name == "ufm" else {}
    model = make_model(name, width=width, **kw)
    assert model.feature_dim == p == model.classifier.in_features


def test_width_scales_every_channel():
    convs = [m for m in make_model("resnet9", width=0.125).modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [8, 16, 16, 16, 32, 64, 64, 64]


def test_vit_heads_adjust_to_width():
    assert make_model("vit", width=0.1, depth=1).num_heads == 3  # hidden 51 = 3 * 17
    assert make_model("vit", width=0.125, depth=1).num_heads == 8
    with pytest.raises(ValueError):
        make_model("vit", width=0.1, depth=1, num_heads=8)


# ---------------------------------------------------------------------------------------------
# UFM.


def test_ufm_features_are_rows_of_H():
    u = make_model("ufm", num_classes=K, num_samples=20, feature_dim=16)
    assert u.classifier.bias is None
    assert u.H.shape == (20, 16)
    idx = torch.tensor([3, 0, 3, 19])
    torch.testing.assert_close(u.features(idx), u.H[idx], rtol=0, atol=0)
    torch.testing.assert_close(u(idx), u.H[idx] @ u.classifier.weight.T)


def test_ufm_gradient_only_at_indexed_rows():
    u = make_model("ufm", num_classes=K, num_samples=20, feature_dim=16)
    idx = torch.tensor([2, 5, 5, 11])
    nn.functional.cross_entropy(u(idx), torch.tensor([0, 1, 2, 3])).backward()
    g = u.H.grad
    touched = g.abs().sum(dim=1) > 0
    assert touched.tolist() == [i in (2, 5, 11) for i in range(20)]
    assert u.classifier.weight.grad is not None


def test_ufm_default_init_scale():
    torch.manual_seed(0)
    u = make_model("ufm")  # N = 10000, p = 512, H ~ N(0, 1/p)
    assert u.H.shape == (10000, 512)
    assert abs(u.H.std().item() - 512**-0.5) < 1e-3


# ---------------------------------------------------------------------------------------------
# BatchNorm train / eval.


@pytest.mark.parametrize("name", ["resnet9", "vgg9"])
def test_batchnorm_train_eval(name):
    torch.manual_seed(0)
    model = small_model(name)
    x = torch.randn(6, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        a, b = model(x), model(x)
        single = model(x[:2])
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(single, a[:2], rtol=1e-5, atol=1e-5)  # no batch dependence
    bn = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    model.train()
    with torch.no_grad():
        t = model(x)
        t_small = model(x[:2])
    assert not torch.equal(bn.running_mean, before)  # running stats update in train mode
    assert not torch.allclose(t_small, t[:2])  # batch statistics in train mode


# ---------------------------------------------------------------------------------------------
# Bad input.


def test_bad_input():
    with pytest.raises(ValueError, match="resnet9"):
        make_model("resnet18")
    for w in (0, -1.0, float("nan"), float("inf")):
        for name in MODEL_NAMES:
            with pytest.raises(ValueError):
                make_model(name, width=w)
    with pytest.raises(ValueError):
        ResNet9(width=0)
    with pytest.raises(ValueError):
        make_model("vgg9", num_classes=0)
    with pytest.raises(ValueError):
        make_model("mlp", hidden=())


def test_names_case_insensitive():
    assert isinstance(make_model("ResNet9", width=SMALL), ResNet9)
    assert isinstance(make_model(" VGG9 ", width=SMALL), VGG9)
    assert isinstance(make_model("MLP", in_features=2), MLP)
    assert isinstance(make_model("UFM", num_samples=3), UFM)
    assert isinstance(make_model("ViT", width=SMALL, depth=1), ViT)


# ---------------------------------------------------------------------------------------------
# Weight-decay groups.


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_param_groups_for_decay(name):
    model = small_model(name)
    groups = param_groups_for_decay(model, 5e-4)
    decay = {id(p) for p in groups[0]["params"]}
    assert groups[0]["weight_decay"] == 5e-4
    no_decay = {id(p) for g in groups[1:] for p in g["params"]}
    assert all(g["weight_decay"] == 0.0 for g in groups[1:])
    listed = [p for g in groups for p in g["params"]]
    assert len(listed) == len({id(p) for p in listed}) == len(list(model.parameters()))
    for module in model.modules():
        for pname, p in module.named_parameters(recurse=False):
            if pname == "bias" or isinstance(module, (nn.BatchNorm2d, nn.LayerNorm)):
                assert id(p) in no_decay, (type(module).__name__, pname)
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)) and pname == "weight":
                assert id(p) in decay, (type(module).__name__, pname)
    # Groups feed an optimizer directly.
    torch.optim.SGD(groups, lr=0.1)


def test_param_groups_extra_names_and_empty_group():
    vit = small_model("vit", depth=1)
    groups = param_groups_for_decay(vit, 0.1, no_decay_names=["backbone.cls_token", "backbone.pos_embed"])
    no_decay = {id(p) for p in groups[1]["params"]}
    assert id(vit.backbone.cls_token) in no_decay and id(vit.backbone.pos_embed) in no_decay
    with pytest.raises(ValueError):
        param_groups_for_decay(vit, 0.1, no_decay_names=["nope"])
    ufm = make_model("ufm", num_samples=5, feature_dim=4)  # H and bias-free W: nothing to exempt
    (group,) = param_groups_for_decay(ufm, 0.1)
    assert len(group["params"]) == 2
