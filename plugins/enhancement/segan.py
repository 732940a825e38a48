"""SEGAN's generator and discriminator.

Pascual, Bonafonte & Serrà 2017, "SEGAN: Speech Enhancement Generative Adversarial Network"
(Interspeech), section 3 and Fig. 2, with the details of the authors' code (santi-pdp/segan,
TensorFlow, and its PyTorch port santi-pdp/segan_pytorch):

* **Generator**: an encoder of 11 convolutions (kernel 31, stride 2; 16, 32, 32, 64, 64, 128,
  128, 256, 256, 512, 1024 channels), each followed by a PReLU, takes a pre-emphasised
  waveform (B, 1, 16384) to a code (B, 1024, 8); a latent z ~ N(0, I) of the same shape is
  concatenated before it on the channel axis (the reference code puts z first); a mirrored
  decoder of transposed convolutions (kernel 31, stride 2; 512, 256, ..., 16 channels, then
  1) doubles the length at each layer, and after each PReLU concatenates the output of the
  encoder layer of the same length (its skip connection), so a decoder layer reads twice the
  channels the previous one wrote. A tanh gives the enhanced waveform (B, 1, 16384). As in
  the reference code the skips carry the encoder outputs *before* their PReLU, the PReLUs
  start at slope 0 (segan_pytorch keeps PyTorch's 0.25), the convolutions have no bias
  (``bias=True`` adds them, segan_pytorch's ``--bias``) and weights are drawn from
  N(0, 0.02^2) (TensorFlow's truncated normal in the reference).
* **Discriminator**: the encoder's layout on the pair (B, 2, 16384), [clean or enhanced ;
  noisy], each convolution followed by virtual batch normalisation
  (:class:`~speechgan.nn.VirtualBatchNorm1d`) and LeakyReLU(0.3); then a 1 x 1 convolution
  to one channel (B, 1, 8) and a dense layer to one logit (B, 1).

**Residual output (``residual=True``; not in the paper).** The generator adds its output to
the noisy input instead of passing it through the tanh: enhanced = noisy + G(noisy, z), the
last transposed convolution starting at zero, so an untrained generator returns its input
and training learns the correction, the noise to remove. In the paper's form the waveform
must be rebuilt through the strided layers; at the CPU scale (first layers of 4 and 8
channels, a few thousand steps) that rebuilding costs more intelligibility than the noise
removal gains (the README's 4,000-step run: STOI 0.869 against the noisy input's 0.910, lowest
at high input SNR). The default keeps the paper's tanh output.

**Gated residual output (``gate=True`` with ``residual=True``; not in the paper).** The last
layer writes two channels, a correction ``c`` and a gate logit ``a``, and
enhanced = min(1, 2 sigmoid(a)) * noisy + c: a gain per sample in [0, 1] on the input, 1 at
initialisation (both channels start at zero), so the untrained generator is still the
identity. A plain residual generator must cancel the noise sample by sample, which a thin
network does poorly where there is no speech at all, and PESQ weighs noise in the pauses
heavily; the gate can turn the input down over a pause. At CPU scale (quarter width, 2,000
L1 steps, held-out voices and noise) the plain residual generator left the noise of the
pauses 3 dB down, the gated one 8.5 dB, the Wiener filter 18 dB
(``benchmarks/enhancement_pauses.py``; the enhancement recipes' README).

Parameter counts at the paper's size (``segan_generator()``, ``segan_discriminator()``):
generator 73,096,048 (31 x 2,357,808 kernel weights + 4,000 PReLU slopes), discriminator
24,370,569 (31 x 785,952 kernel weights, 5,024 VBN scales and shifts, 1,024 + 9 in the
output layers).

Convolutions pad symmetrically (15 samples each side at kernel 31), so encoder output ``n``
is centred on input sample ``2n`` and the transposed convolutions mirror that alignment; the
reference code pads "SAME" as TensorFlow does (14 before, 15 after), half a sample later.
Any length that is a multiple of ``2 ** len(channels)`` (2048 at the paper's depth) goes
through the generator; the discriminator's dense layer fixes its input to ``segment_length``.

**Virtual batch normalisation's reference.** ``reference="batch"`` (the default) follows
Salimans et al. 2016 and segan_pytorch: the first batch the discriminator sees in training
(real pairs, in the usual D step) is kept as the buffer ``reference_batch`` and propagated
through the current weights at every training forward, so each layer's reference
statistics follow the training; they carry gradients, as in Salimans et al. and the
TensorFlow reference (segan_pytorch detaches them), and the last ones are stored for eval
mode. It costs one more pass over the reference batch per call. ``reference="statistics"``
sets each layer's statistics once, from the first training batch, and freezes them:
cheaper, but they go stale as the weights change. Both reference implementations mix the
statistics of the whole current batch into the reference ones (``reduce_mean(x, [0, 1])``;
weight 1/(N + 1) with N the reference size in the TensorFlow code, the current batch size in
segan_pytorch), so an example's output depends on its batch; this follows Salimans et al.'s
(and TF-GAN's ``VBN``) per-example statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import VBNReference, VirtualBatchNorm1d, conv1d, conv_transpose1d, init_conv_normal

__all__ = ["PAPER_CHANNELS", "SEGANGenerator", "SEGANDiscriminator", "segan_generator", "segan_discriminator"]

#: The encoder's channels (and the discriminator's) in Pascual et al. 2017, Fig. 2.
PAPER_CHANNELS = (16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024)
#: Slope of the discriminator's leaky ReLUs (the reference code's ``leakyrelu(alpha=0.3)``).
LEAKY_SLOPE = 0.3


def _channels(channels: Sequence[int], who: str) -> tuple[int, ...]:
    channels = tuple(channels)
    if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
        raise ConfigError(f"{who}: channels must be a non-empty list of positive integers, got {list(channels)}")
    return channels


def _frames(segment_length: int, multiple: int, layers: int, who: str) -> int:
    if segment_length < multiple or segment_length % multiple:
        raise ConfigError(
            f"{who}: segment_length {segment_length} is not a positive multiple of {multiple} "
            f"(2^{layers}: each of the {layers} layers halves the length); the paper uses 16384"
        )
    return segment_length // multiple


def _downsampling(c_in: int, c_out: int, kernel_size: int, bias: bool) -> nn.Conv1d:
    """A stride-2 convolution that halves an even length: (B, c_in, T) -> (B, c_out, T / 2)."""
    return conv1d(in_channels=c_in, out_channels=c_out, kernel_size=kernel_size, stride=2, bias=bias)


def _check_input(x: torch.Tensor, channels: int, multiple: int, who: str, length: int | None = None) -> None:
    if x.dim() != 3 or x.shape[1] != channels:
        raise DataError(f"{who}: expected a waveform batch (B, {channels}, T), got {tuple(x.shape)}")
    if length is not None and x.shape[-1] != length:
        raise DataError(
            f"{who}: built for segments of {length} samples (its dense layer reads {length // multiple} frames), "
            f"got {x.shape[-1]}; set the discriminator's segment_length to the dataset's segment_length"
        )
    if x.shape[-1] == 0 or x.shape[-1] % multiple:
        raise DataError(
            f"{who}: the length {x.shape[-1]} is not a positive multiple of {multiple} (one halving per layer); "
            "pad or crop the waveform (the objective's enhance() pads whole utterances)"
        )


class SEGANGenerator(nn.Module):
    """SEGAN's encoder-decoder: noisy (B, 1, T) [+ z (B, latent_channels, T / 2^L)] -> enhanced (B, 1, T).

    ``T`` must be a multiple of ``frame_multiple`` = 2^L, L = ``len(channels)``;
    ``latent_shape`` is z's (channels, frames) for ``segment_length`` samples, (1024, 8) at the
    paper's size. ``init_std=None`` keeps PyTorch's default initialisation; ``residual=True``
    returns ``noisy + correction`` (module docstring).
    """

    def __init__(
        self,
        *,
        channels: Sequence[int] = PAPER_CHANNELS,
        kernel_size: int = 31,
        latent_channels: int = 1024,
        segment_length: int = 16384,
        bias: bool = False,
        init_std: float | None = 0.02,
        residual: bool = False,
        gate: bool = False,
    ) -> None:
        super().__init__()
        channels = _channels(channels, "SEGANGenerator")
        if gate and not residual:
            raise ConfigError("SEGANGenerator: gate=true gates the noisy input of the residual output; "
                              "it needs residual=true")
        self.residual, self.gate = residual, gate
        if latent_channels < 1:
            raise ConfigError(f"SEGANGenerator: latent_channels must be >= 1, got {latent_channels}")
        self.frame_multiple = 2 ** len(channels)
        self.latent_channels = latent_channels
        self.latent_shape = (latent_channels, _frames(segment_length, self.frame_multiple, len(channels),
                                                      "SEGANGenerator"))
        self.encoder = nn.ModuleList(
            _downsampling(c_in, c_out, kernel_size, bias) for c_in, c_out in zip((1, *channels), channels)
        )
        self.encoder_activations = nn.ModuleList(nn.PReLU(c, init=0.0) for c in channels)
        decoded = (*channels[-2::-1], 2 if gate else 1)  # 512, 256, ..., 16, 1 (2 gated): the encoder mirrored
        reads = (latent_channels + channels[-1], *(2 * c for c in decoded[:-1]))  # each + its skip
        self.decoder = nn.ModuleList(
            conv_transpose1d(in_channels=c_in, out_channels=c_out, kernel_size=kernel_size, stride=2, bias=bias)
            for c_in, c_out in zip(reads, decoded)
        )
        self.decoder_activations = nn.ModuleList(nn.PReLU(c, init=0.0) for c in decoded[:-1])
        if init_std is not None:
            init_conv_normal(self, std=init_std)
            for conv in (*self.encoder, *self.decoder):
                if conv.bias is not None:
                    nn.init.zeros_(conv.bias)
        if residual:  # the correction starts at zero: an untrained generator returns its input
            nn.init.zeros_(self.decoder[-1].weight)
            if self.decoder[-1].bias is not None:
                nn.init.zeros_(self.decoder[-1].bias)

    def forward(self, noisy: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        _check_input(noisy, 1, self.frame_multiple, "SEGANGenerator")
        skips = []
        h = noisy  # (B, 1, T)
        for conv, act in zip(self.encoder, self.encoder_activations):
            h = conv(h)  # (B, C_i, T / 2^(i+1))
            skips.append(h)  # before the PReLU, as the reference code keeps it
            h = act(h)
        skips.pop()  # the last encoder output is the code, not a skip
        b, _, frames = h.shape  # (B, C_L, T / 2^L)
        if z is None:
            z = torch.randn(b, self.latent_channels, frames, device=h.device, dtype=h.dtype)
        elif tuple(z.shape) != (b, self.latent_channels, frames):
            raise DataError(f"SEGANGenerator: z must have shape {(b, self.latent_channels, frames)} for this "
                            f"input, got {tuple(z.shape)}")
        h = torch.cat([z, h], dim=1)  # (B, latent + C_L, T / 2^L)
        for i, deconv in enumerate(self.decoder):
            h = deconv(h)  # twice as long
            if i < len(self.decoder_activations):
                h = torch.cat([self.decoder_activations[i](h), skips.pop()], dim=1)  # + the encoder's skip
        if self.gate:  # h: (B, 2, T): correction, gate logit
            return torch.clamp(2.0 * torch.sigmoid(h[:, 1:]), max=1.0) * noisy + h[:, :1]  # (B, 1, T)
        return noisy + h if self.residual else torch.tanh(h)  # (B, 1, T)


class SEGANDiscriminator(nn.Module):
    """SEGAN's discriminator: a [clean-or-enhanced ; noisy] pair (B, 2, segment_length) -> logits (B, 1).

    Strided convolutions with virtual batch normalisation and LeakyReLU(0.3), a 1 x 1
    convolution to one channel and a dense layer over its ``segment_length / 2^L`` frames.
    ``reference`` chooses how virtual batch norm's reference is kept (module docstring).
    """

    reference_batch: torch.Tensor

    def __init__(
        self,
        *,
        in_channels: int = 2,
        channels: Sequence[int] = PAPER_CHANNELS,
        kernel_size: int = 31,
        negative_slope: float = LEAKY_SLOPE,
        segment_length: int = 16384,
        reference: Literal["batch", "statistics"] = "batch",
        init_std: float | None = 0.02,
    ) -> None:
        super().__init__()
        channels = _channels(channels, "SEGANDiscriminator")
        if reference not in ("batch", "statistics"):
            raise ConfigError(f"SEGANDiscriminator: reference must be 'batch' or 'statistics', got {reference!r}")
        self.in_channels, self.segment_length, self.reference = in_channels, segment_length, reference
        self.negative_slope = negative_slope
        self.frame_multiple = 2 ** len(channels)
        frames = _frames(segment_length, self.frame_multiple, len(channels), "SEGANDiscriminator")
        self.convs = nn.ModuleList(
            _downsampling(c_in, c_out, kernel_size, False) for c_in, c_out in zip((in_channels, *channels), channels)
        )  # no bias: the normalisation removes it (the reference code's bias_D_conv=False)
        self.norms = nn.ModuleList(VirtualBatchNorm1d(c) for c in channels)
        self.to_logits = conv1d(in_channels=channels[-1], out_channels=1, kernel_size=1, bias=False)
        self.dense = nn.Linear(frames, 1)
        self.register_buffer("reference_batch", torch.empty(0, in_channels, segment_length))
        if init_std is not None:
            init_conv_normal(self, std=init_std)
            for norm in self.norms:  # the reference code's gamma ~ N(1, 0.02^2)
                nn.init.normal_(norm.gamma, 1.0, 0.02)
            nn.init.xavier_uniform_(self.dense.weight)  # TensorFlow's fully_connected default
            nn.init.zeros_(self.dense.bias)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        _check_input(pair, self.in_channels, self.frame_multiple, "SEGANDiscriminator", self.segment_length)
        if self.reference == "batch" and self.training:
            references: Sequence[VBNReference | None] = self._propagate_reference(pair)
        else:
            references = [None] * len(self.norms)  # the stored statistics (set from the first batch if none)
        h = pair  # (B, 2, T)
        for conv, norm, reference in zip(self.convs, self.norms, references):
            h = F.leaky_relu(norm(conv(h), reference), self.negative_slope)  # (B, C_i, T / 2^(i+1))
        return self.dense(self.to_logits(h).flatten(1))  # (B, 1, F) -> (B, F) -> (B, 1)

    def _propagate_reference(self, pair: torch.Tensor) -> list[VBNReference]:
        """Each layer's statistics of the reference batch under the current weights (kept for eval mode)."""
        if self.reference_batch.shape[0] == 0:  # the first training batch becomes the reference
            self.reference_batch = pair.detach().clone()
        h, references = self.reference_batch, []
        for conv, norm in zip(self.convs, self.norms):
            a = conv(h)  # (N, C_i, T / 2^(i+1))
            reference = norm.statistics(a)
            norm.store(reference)
            references.append(reference)
            h = F.leaky_relu(norm.normalize(a, reference.mean, reference.mean_sq), self.negative_slope)
        return references

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # the reference batch has the size of the first batch seen in training: take the saved one's
        saved = state_dict.get(prefix + "reference_batch")
        if isinstance(saved, torch.Tensor) and saved.dim() == 3:
            self.reference_batch = self.reference_batch.new_empty((saved.shape[0], *self.reference_batch.shape[1:]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def segan_generator(*, segment_length: int = 16384) -> SEGANGenerator:
    """SEGAN's generator at the paper's size: 11 + 11 layers, z (1024, 8), 73.10M parameters."""
    return SEGANGenerator(channels=PAPER_CHANNELS, kernel_size=31, latent_channels=1024, segment_length=segment_length)


def segan_discriminator(
    *, segment_length: int = 16384, reference: Literal["batch", "statistics"] = "batch"
) -> SEGANDiscriminator:
    """SEGAN's discriminator at the paper's size: 11 VBN layers on (B, 2, 16384), 24.37M parameters."""
    return SEGANDiscriminator(channels=PAPER_CHANNELS, kernel_size=31, segment_length=segment_length,
                              reference=reference)
