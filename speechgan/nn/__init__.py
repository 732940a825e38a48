"""Reusable neural-network blocks of audio GANs, kept apart from full models.

Normalised convolutions and padding rules (:mod:`.conv`), HiFi-GAN and MelGAN residual
blocks (:mod:`.residual`), gated convolution blocks of CycleGAN-VC (:mod:`.glu`), the
parts shared by multi-period / multi-scale / multi-resolution discriminators
(:mod:`.discriminator`), class conditioning (label embeddings, the projection
discriminator's term: :mod:`.conditioning`) and virtual batch normalisation
(:mod:`.normalization`). Full generators and discriminators live in per-family plugin
packages and build on these, as ``dac/model`` builds on ``dac/nn``; nothing here is a
registered component.
"""

from .conditioning import LabelEmbedding, check_labels, projection_logit
from .conv import (
    Norm,
    PaddingMode,
    conv1d,
    conv2d,
    conv_transpose1d,
    get_padding,
    init_conv_normal,
    init_glorot_uniform,
    normalized,
    remove_parametrizations,
    transposed_padding,
)
from .discriminator import (
    AvgPoolPyramid,
    ConvStack,
    PhaseShuffle,
    SubDiscriminatorOutput,
    merge_outputs,
    reshape_by_period,
)
from .glu import (
    FeatureNorm,
    GLUConv1d,
    GLUConv2d,
    GLUConvTranspose2d,
    GLUResidualBlock1d,
    PixelShuffle1d,
    PixelUnshuffle1d,
    feature_norm,
)
from .normalization import VBNReference, VirtualBatchNorm1d
from .residual import (
    MelGANResidualStack,
    MelGANResidualUnit,
    MultiReceptiveFieldFusion,
    ResBlock1,
    ResBlock2,
)

__all__ = [
    # conv
    "Norm",
    "PaddingMode",
    "get_padding",
    "transposed_padding",
    "normalized",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "remove_parametrizations",
    "init_conv_normal",
    "init_glorot_uniform",
    # residual
    "ResBlock1",
    "ResBlock2",
    "MultiReceptiveFieldFusion",
    "MelGANResidualUnit",
    "MelGANResidualStack",
    # glu
    "FeatureNorm",
    "feature_norm",
    "PixelShuffle1d",
    "PixelUnshuffle1d",
    "GLUConv1d",
    "GLUConv2d",
    "GLUResidualBlock1d",
    "GLUConvTranspose2d",
    # discriminator
    "SubDiscriminatorOutput",
    "merge_outputs",
    "ConvStack",
    "reshape_by_period",
    "AvgPoolPyramid",
    "PhaseShuffle",
    # conditioning
    "LabelEmbedding",
    "projection_logit",
    "check_labels",
    # normalization
    "VBNReference",
    "VirtualBatchNorm1d",
]
