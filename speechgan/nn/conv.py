"""Normalised convolutions and the padding and initialisation rules of audio GANs.

* Weight normalisation (Salimans & Kingma 2016, "Weight Normalization: A Simple
  Reparameterization to Accelerate Training of Deep Neural Networks"):
  ``w = g * v / ||v||`` per output channel. MelGAN (Kumar et al. 2019) and HiFi-GAN
  (Kong et al. 2020) use it in the generator and in most discriminators.
* Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for Generative
  Adversarial Networks"): ``w / sigma(w)`` with the top singular value ``sigma`` of the
  weight, seen as an ``(out, in * k)`` matrix, estimated by one power iteration per
  training forward. HiFi-GAN puts it on the first scale of its multi-scale discriminator.

Both use ``torch.nn.utils.parametrizations``; a module's state dict then holds the
parametrization's tensors (``weight.parametrizations.weight.original0``/``original1`` for
weight norm's ``g``/``v``), so load a checkpoint first, then :func:`remove_parametrizations`
for inference or export.

Padding: :func:`get_padding` is HiFi-GAN's ``(k * d - d) // 2``, which keeps the length of
a stride-1 convolution with an odd kernel ``k`` at any dilation ``d``; :func:`transposed_padding`
makes a transposed convolution turn ``T`` frames into exactly ``T * stride`` samples
(HiFi-GAN's ``(k - u) // 2``, MelGAN's ``u // 2 + u % 2`` with output padding ``u % 2``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from ..errors import ConfigError

__all__ = [
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
]

#: How a convolution's weight is reparameterised.
Norm = Literal["none", "weight", "spectral"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]

_Module = TypeVar("_Module", bound=nn.Module)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
_GLOROT = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding on each side that keeps the length of a stride-1 convolution (odd kernels).

    A dilated kernel spans ``(k - 1) * d + 1`` samples, so ``(k - 1) * d / 2`` on each side
    keeps ``T`` outputs; this is HiFi-GAN's ``int((k * d - d) / 2)``.
    """
    return (kernel_size * dilation - dilation) // 2


def _same_padding(kernel_size: int, dilation: int, where: str) -> int:
    if kernel_size % 2 == 0:
        raise ConfigError(
            f"{where}: kernel_size {kernel_size} is even, so no symmetric padding keeps the length; "
            "use an odd kernel or pass padding explicitly"
        )
    return get_padding(kernel_size, dilation)


def transposed_padding(kernel_size: int, stride: int) -> tuple[int, int]:
    """``(padding, output_padding)`` that upsample ``T`` frames to exactly ``T * stride``.

    The output length is ``(T - 1) * s - 2 p + k + o``; with ``p = ceil((k - s) / 2)`` and
    ``o = (k - s) % 2`` it is ``T * s``.
    """
    if kernel_size < stride:
        raise ConfigError(
            f"conv_transpose1d: kernel_size {kernel_size} is smaller than stride {stride}, which leaves "
            "output samples no kernel tap reaches; use a kernel of at least the stride (HiFi-GAN and "
            "MelGAN use 2 x stride)"
        )
    return (kernel_size - stride + 1) // 2, (kernel_size - stride) % 2


def normalized(module: _Module, *, norm: Norm) -> _Module:
    """``module`` with its ``weight`` weight- or spectrally normalised (or as it is)."""
    if norm == "weight":
        return weight_norm(module)
    if norm == "spectral":
        return spectral_norm(module)
    if norm != "none":
        raise ConfigError(f"unknown norm {norm!r}: use 'none', 'weight' or 'spectral'")
    return module


def conv1d(
    *,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    padding: int | None = None,
    padding_mode: PaddingMode = "zeros",
    bias: bool = True,
    norm: Norm = "none",
) -> nn.Conv1d:
    """A 1-D convolution; ``padding=None`` is :func:`get_padding` (length-keeping at stride 1).

    ``padding_mode="reflect"`` is MelGAN's ``ReflectionPad1d`` before an unpadded conv.
    """
    pad = _same_padding(kernel_size, dilation, "conv1d") if padding is None else padding
    conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=pad, dilation=dilation,
                     groups=groups, bias=bias, padding_mode=padding_mode)
    return normalized(conv, norm=norm)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def conv2d(
    *,
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    padding: int | tuple[int, int] | None = None,
    padding_mode: PaddingMode = "zeros",
    bias: bool = True,
    norm: Norm = "none",
) -> nn.Conv2d:
    """A 2-D convolution; ``padding=None`` is :func:`get_padding` along each axis.

    HiFi-GAN's period discriminator convolves ``(k, 1)`` kernels over ``(T / p, p)`` maps:
    the default gives it padding ``(get_padding(k), 0)``.
    """
    kernel, dil = _pair(kernel_size), _pair(dilation)
    pad = (tuple(_same_padding(k, d, "conv2d") for k, d in zip(kernel, dil)) if padding is None
           else _pair(padding))
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride=_pair(stride), padding=pad, dilation=dil,
                     groups=groups, bias=bias, padding_mode=padding_mode)
    return normalized(conv, norm=norm)


def conv_transpose1d(
    *,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int,
    groups: int = 1,
    bias: bool = True,
    norm: Norm = "none",
) -> nn.ConvTranspose1d:
    """A transposed 1-D convolution mapping ``(B, C_in, T)`` to ``(B, C_out, T * stride)``.

    Padding and output padding come from :func:`transposed_padding`. Weight norm normalises
    the weight ``(C_in, C_out / groups, k)`` along its first axis, as HiFi-GAN's does.
    """
    padding, output_padding = transposed_padding(kernel_size, stride)
    conv = nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                              output_padding=output_padding, groups=groups, bias=bias)
    return normalized(conv, norm=norm)


def remove_parametrizations(module: _Module) -> _Module:
    """Fold every parametrization in ``module`` (weight and spectral norms) into plain weights, in place.

    For inference and export: the outputs of ``module.eval()`` are unchanged (up to
    rounding), and the state dict then has plain ``weight`` keys. The removal runs in eval
    mode so that spectral norm does not take one more power iteration while it reads the
    weight; the training flag is restored afterwards. Returns ``module``.
    """
    training = module.training
    module.eval()
    for sub in module.modules():
        if parametrize.is_parametrized(sub):
            for name in list(sub.parametrizations.keys()):
                parametrize.remove_parametrizations(sub, name, leave_parametrized=True)
    return module.train(training)


def init_conv_normal(module: nn.Module, *, mean: float = 0.0, std: float = 0.01) -> None:
    """Draw the effective weight of every convolution in ``module`` from ``N(mean, std^2)``.

    HiFi-GAN's ``init_weights`` (std 0.01; MelGAN's ``weights_init`` uses 0.02). The official
    code calls it *after* ``weight_norm``, where writing to ``m.weight.data`` changes a
    tensor that the next forward recomputes from ``g`` and ``v``, so the convolutions keep
    PyTorch's default initialisation (jik876/hifi-gan issue #145). Here the drawn tensor is
    assigned through the parametrization: weight norm stores ``v = w`` and ``g = ||w||``, so
    the convolution really computes with ``w``; spectral norm stores ``w`` before scaling.
    Biases are left as they are, as in HiFi-GAN.
    """
    _draw_weights(module, _CONVS, lambda weight: torch.empty_like(weight).normal_(mean, std))


def init_glorot_uniform(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every convolution (any dimension, transposed too)
    and linear layer in ``module``: TensorFlow's ``tf.layers`` defaults.

    Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward neural
    networks", Eq. 16: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``, the fans counting
    the kernel's taps. WaveGAN and SpecGAN (Donahue et al. 2019) train with it, as their
    reference code leaves ``tf.layers``' initialisers as they are. As in :func:`init_conv_normal`,
    a weight- or spectrally normalised layer gets the drawn tensor through its parametrization.
    """
    for sub in _draw_weights(module, _GLOROT, lambda weight: nn.init.xavier_uniform_(torch.empty_like(weight))):
        if sub.bias is not None:
            with torch.no_grad():
                sub.bias.zero_()


def _draw_weights(
    module: nn.Module, kinds: tuple[type[nn.Module], ...], draw: Callable[[torch.Tensor], torch.Tensor]
) -> list[nn.Module]:
    """Set the effective weight of every ``kinds`` layer in ``module`` to ``draw(weight)``, in
    ``module.modules()`` order; return those layers."""
    layers = [sub for sub in module.modules() if isinstance(sub, kinds)]
    with torch.no_grad():
        for sub in layers:
            drawn = draw(sub.weight)
            if parametrize.is_parametrized(sub, "weight"):
                sub.weight = drawn  # right_inverse: weight norm -> (||w||, w); spectral norm -> w
            else:
                sub.weight.copy_(drawn)
    return layers
