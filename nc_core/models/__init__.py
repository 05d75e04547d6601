"""Models of the paper (Appendix C.5, D.4), all behind one interface, :class:`FeatureClassifier`.

* :class:`ResNet9`, :class:`VGG9` - convolutional networks on 32x32 images, ``p = 512`` at full width.
* :class:`MLP` - small fully connected network (Figure 8).
* :class:`UFM` - unconstrained feature model: free features ``H`` indexed by sample id.
* :class:`ViT` - Vision Transformer (hidden 512, 6 layers, 8 heads, patch 4).
* :class:`ResNet50` - torchvision's ResNet50 (ImageNet, Appendix D.4.4), ``p = 2048`` at full width.

Every model exposes ``backbone`` (input -> features ``(B, p)``), ``classifier`` (``nn.Linear(p, K)``,
whose ``weight`` is the ``W`` of the NC metrics), ``features(x)``, ``forward(x)`` (logits),
``forward_with_features(x)`` (both from one pass), ``feature_dim`` and ``num_classes``.
:func:`make_model` builds them by name; :func:`param_groups_for_decay` splits parameters into
decayed / non-decayed (biases, normalisation layers) optimizer groups.
"""

from .base import FeatureClassifier, scale_width
from .convnets import VGG9, VGG9_LAYERS, ResNet9
from .factory import MODEL_NAMES, make_model
from .mlp import MLP
from .params import param_groups_for_decay
from .resnet50 import ResNet50
from .ufm import UFM
from .vit import ViT

__all__ = [
    "MLP",
    "MODEL_NAMES",
    "UFM",
    "VGG9",
    "VGG9_LAYERS",
    "FeatureClassifier",
    "ResNet9",
    "ResNet50",
    "ViT",
    "make_model",
    "param_groups_for_decay",
    "scale_width",
]
