"""Vision Transformer of the paper, Appendix D.4.5 (based on tintn/vision-transformer-from-scratch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from .base import FeatureClassifier, check_positive_int, check_width, scale_width

__all__ = ["ViT", "default_num_heads"]


def default_num_heads(hidden: int, preferred: int = 8) -> int:
    """``preferred`` if it divides ``hidden``, else the largest divisor of ``hidden`` below ``preferred``.

    E.g. ``512 -> 8``, ``64 -> 8``, ``51 -> 3``, ``9 -> 3``, ``7 -> 7``, ``13 -> 1``.
    """
    for h in range(min(preferred, hidden), 0, -1):
        if hidden % h == 0:
            return h
    return 1


class Attention(nn.Module):
    """Multi-head self-attention: fused ``qkv`` Linear (with bias) -> SDPA -> output ``proj`` Linear."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, S, D = x.shape
        qkv = self.qkv(x).reshape(B, S, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B, heads, S, head_dim)
        # softmax(q k^T / sqrt(head_dim)) v, no dropout
        out = functional.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, S, D))


class Block(nn.Module):
    """Pre-LN transformer block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``, MLP = Linear-GELU-Linear."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim), nn.GELU(approximate="tanh"), nn.Linear(mlp_dim, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTBackbone(nn.Module):
    """Patch embedding + CLS token + learned positions -> pre-LN blocks -> (final LN) -> CLS output."""

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        patch_size: int,
        dim: int,
        depth: int,
        num_heads: int,
        mlp_dim: int,
        final_norm: bool,
    ) -> None:
        super().__init__()
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.num_patches + 1, dim))
        self.blocks = nn.Sequential(*(Block(dim, num_heads, mlp_dim) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim) if final_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, num_patches, dim)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return x[:, 0]


class ViT(FeatureClassifier):
    """Vision Transformer (paper Appendix D.4.5, after tintn/vision-transformer-from-scratch).

    Full-width configuration: hidden size 512, 6 layers, 8 heads (head dim 64), MLP intermediate size
    ``4 * hidden = 2048`` with GELU, no dropout, patch size 4 on 32x32 images (64 patches), a learned
    CLS token, learned position embeddings (65 x hidden), pre-LayerNorm blocks
    (``x + MHA(LN(x))``, ``x + MLP(LN(x))``), a final LayerNorm, and features = the CLS token's output
    (``p = hidden``); ``classifier = Linear(hidden, K, bias=True)``.

    ``width`` scales ``hidden`` (``round(512 * width)``); the MLP stays ``4 * hidden``. Heads: 8 when 8
    divides ``hidden``, otherwise the largest divisor of ``hidden`` below 8 (see
    :func:`default_num_heads`); an explicit ``num_heads`` that does not divide ``hidden`` is an error.

    Details taken from tintn's code: attention q/k/v projections have biases, the GELU is the tanh
    approximation ("NewGELU"), and initialisation is that code's ``_init_weights``: every ``Linear`` and
    ``Conv2d`` weight (classifier included) ``N(0, init_std^2)`` with ``init_std = 0.02`` and zero bias,
    LayerNorm weight 1 / bias 0, CLS token and position embeddings truncated-normal with std 0.02.
    ``final_norm`` (default True, per the paper's description) adds a LayerNorm before the CLS readout;
    tintn's code has none, so ``final_norm=False`` reproduces it exactly.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        width: float = 1.0,
        *,
        image_size: int = 32,
        patch_size: int = 4,
        hidden: int = 512,
        depth: int = 6,
        num_heads: int | None = None,
        mlp_ratio: int = 4,
        final_norm: bool = True,
        init_std: float = 0.02,
    ) -> None:
        width = check_width(width)
        for value, name in (
            (in_channels, "in_channels"),
            (image_size, "image_size"),
            (patch_size, "patch_size"),
            (hidden, "hidden"),
            (depth, "depth"),
            (mlp_ratio, "mlp_ratio"),
        ):
            check_positive_int(value, name)
        if image_size % patch_size:
            raise ValueError(f"patch_size {patch_size} must divide image_size {image_size}")
        dim = scale_width(hidden, width)
        if num_heads is None:
            heads = default_num_heads(dim)
        else:
            heads = check_positive_int(num_heads, "num_heads")
            if dim % heads:
                raise ValueError(f"num_heads={heads} does not divide the hidden size {dim}")
        backbone = ViTBackbone(
            in_channels, image_size, patch_size, dim, depth, heads, mlp_ratio * dim, final_norm
        )
        super().__init__(backbone, dim, num_classes)
        self.in_channels = in_channels
        self.width = width
        self.num_heads = heads
        self.depth = depth
        self.patch_size = patch_size
        self.image_size = image_size
        self.init_std = float(init_std)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Re-initialise as tintn's ``ViTForClassfication._init_weights`` (see the class docstring)."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.normal_(m.weight, mean=0.0, std=self.init_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.backbone.cls_token, mean=0.0, std=self.init_std)
        nn.init.trunc_normal_(self.backbone.pos_embed, mean=0.0, std=self.init_std)
