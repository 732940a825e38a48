"""GAN vocoder training as in HiFi-GAN (Kong et al. 2020), MelGAN (Kumar et al. 2019) and
Parallel WaveGAN (Yamamoto et al. 2020).

The generator maps features (a log-mel spectrogram) to a waveform; any number of
discriminators (multi-period, multi-scale...) each return ``(logits, feature_maps)``, both
lists over their sub-discriminators. Loss terms, each summed over the discriminators:

* ``d/adv``, ``g/adv``: the adversarial criterion (``criterion``);
* ``g/fm``: feature matching, ``sum over sub-discriminators and layers of mean |D_l(x) -
  D_l(G(s))|`` (:func:`speechgan.losses.feature_matching_loss`);
* ``g/mel``: ``mean |mel(G(s)) - mel(x)|`` on the loss front-end ``loss_features`` (by
  default the input front-end ``features:``);
* ``g/stft``: Parallel WaveGAN's multi-resolution STFT loss, spectral convergence + log
  magnitude (:class:`speechgan.losses.MultiResolutionSTFTLoss`).

A term whose weight is 0 is not computed (no front-end or STFT call; no discriminator pass
in the G step when ``g/adv`` and ``g/fm`` are both 0). The three papers are configs:

* **HiFi-GAN** (the defaults; Kong et al. 2020, section 2.3): ``least_squares``,
  ``g/adv`` 1, ``g/fm`` 2, ``g/mel`` 45. Its mel loss uses a full-band mel
  (``fmax_for_loss: null`` in ``config_v1.json``) while the input mel stops at 8 kHz, so the
  recipe gives the loss its own front-end: ``objective: {name: vocoder, args:
  {loss_features: {name: log_mel, args: {fmax: null}}}}``.
* **MelGAN** (Kumar et al. 2019, section 2.3 and the ablation study of section 3):
  ``criterion: hinge``, ``loss_weights: {g/fm: 10, g/mel: 0}``; the paper trains with the
  hinge loss and feature matching (lambda = 10) only, and its ``scripts/train.py`` computes
  a mel L1 just to log it. Where this differs: ``g/fm`` is the paper's ``sum_k L_FM`` (mean
  per layer, summed over layers and discriminators), whereas the reference code also scales
  each layer by ``4 / (n_layers_D + 1)`` and averages over its 3 discriminators, an
  effective weight of 8/3 on this sum; and no mel error is logged during training when its
  weight is 0 (evaluate with the ``log_mel_l1`` metric instead).
* **Parallel WaveGAN** (Yamamoto et al. 2020): ``least_squares``, ``loss_weights: {g/adv:
  4, g/fm: 0, g/mel: 0, g/stft: 1}`` (lambda_adv = 4). Its reference recipe trains G on the
  STFT loss alone for the first 100k steps, ``g/adv: {value: 4, start: 100000}`` (and
  leaves D untrained until then).

The loss front-end must run at the input front-end's sample rate (it compares the
generator's waveform with the real one, both at that rate); its hop, FFT size, mel bands and
band limits may differ, since only the loss reads its frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.features import FrontEnd
from speechgan.losses import AdversarialCriterion, MultiResolutionSTFTLoss, feature_matching_loss
from speechgan.objective import AudioSample, ExportSignature, Objective, Pair, mean_output
from speechgan.registry import ComponentRef

__all__ = ["Vocoder", "mel_signature"]


class Vocoder(Objective):
    """Features -> waveform GAN vocoder: adversarial, feature matching, mel L1 and MR-STFT terms."""

    generator_roles = ("generator",)
    discriminator_roles = None  # any set of discriminators, e.g. {mpd, msd}
    terms = {"d/adv": 1.0, "g/adv": 1.0, "g/fm": 2.0, "g/mel": 45.0, "g/stft": 0.0}
    reads = frozenset({"wave", "features"})  # of a FEATURES batch (speechgan.batches)

    def __init__(
        self,
        features: nn.Module,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
        loss_features: Annotated[FrontEnd | None, ComponentRef("feature")] = None,
        stft_loss: Annotated[MultiResolutionSTFTLoss, ComponentRef("loss")] = "multi_resolution_stft",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        if loss_features is not None:
            _check_same_rate(features, loss_features)
        self.features, self.criterion = features, criterion
        self.loss_features = loss_features
        self.stft_loss = stft_loss

    @property
    def mel(self) -> nn.Module:
        """The front-end of ``g/mel``: ``loss_features``, else the input front-end."""
        return self.features if self.loss_features is None else self.loss_features

    def generate(self, batch: dict[str, torch.Tensor], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        wave = batch["wave"]  # (B, T)
        fake = g["generator"](batch["features"])  # (B, M, N) -> (B, 1, T')
        n = min(wave.shape[-1], fake.shape[-1])
        return {"real": wave[..., :n].unsqueeze(1), "fake": fake[..., :n]}  # (B, 1, T) each

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real, fake = state["real"], state["fake"].detach()
        loss, real_means, fake_means = [], [], []
        for disc in d.values():
            real_logits, _ = disc(real)
            fake_logits, _ = disc(fake)
            loss.append(self.criterion.discriminator_loss(real_logits, fake_logits))
            real_means.append(mean_output(real_logits))
            fake_means.append(mean_output(fake_logits))
        return {
            "d/adv": torch.stack(loss).sum(),
            "stats/d_real": torch.stack(real_means).mean(),
            "stats/d_fake": torch.stack(fake_means).mean(),
        }

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real, fake = state["real"], state["fake"]  # (B, 1, T) each
        terms: dict[str, torch.Tensor] = {}
        if weights.get("g/adv", 0.0) or weights.get("g/fm", 0.0):
            terms.update(self._adversarial_terms(real, fake, d, matching=bool(weights.get("g/fm", 0.0))))
        if weights.get("g/mel", 0.0):
            terms["g/mel"] = F.l1_loss(self.mel(fake.squeeze(1)), self.mel(real.squeeze(1)))  # (B, M', N') each
        if weights.get("g/stft", 0.0):
            terms.update(self.stft_loss.terms(fake, real))
        return terms

    def _adversarial_terms(self, real: torch.Tensor, fake: torch.Tensor, d: nn.ModuleDict, *,
                           matching: bool) -> dict[str, torch.Tensor]:
        """``g/adv``, and ``g/fm`` with ``matching`` (the only use of D's pass on real audio here)."""
        adv, fm = [], []
        for disc in d.values():
            if matching:
                with torch.no_grad():
                    _, real_maps = disc(real)
            fake_logits, fake_maps = disc(fake)
            adv.append(self.criterion.generator_loss(fake_logits))
            if matching:
                fm.append(feature_matching_loss(real_maps, fake_maps))
        terms = {"g/adv": torch.stack(adv).sum()}
        if matching:
            terms["g/fm"] = torch.stack(fm).sum()
        return terms

    def evaluation_pairs(self, *, g: nn.ModuleDict, dataset: Any, device: torch.device,
                         limit: int | None = None) -> Iterator[Pair]:
        rate = int(getattr(self.features, "sample_rate", 0))
        for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
            item = dataset[i]
            fake = g["generator"](item["features"].unsqueeze(0).to(device)).reshape(-1).float().cpu()
            yield Pair(reference=item["wave"].reshape(-1).float().cpu(), generated=fake, sample_rate=rate,
                       id=str(item.get("id", i)))

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        rate = int(getattr(self.features, "sample_rate", 0))
        fake = g["generator"](batch["features"][:1]).reshape(-1)
        return {"generated": AudioSample(fake, rate), "real": AudioSample(batch["wave"][0], rate)} if rate else {}

    def export_signature(self, role: str, *, features: nn.Module | None, device: torch.device) -> ExportSignature:
        """``mel (batch, n_mels, frames) -> audio (batch, 1, samples)``, batch and length dynamic.

        Traced on the front-end's mel of one second of seeded noise (real values, so the
        check sees the generator's working range), checked on 2 mels of another length.
        """
        front_end = features if features is not None else self.features
        rate = int(front_end.sample_rate)
        noise = torch.randn(2, rate, generator=torch.Generator().manual_seed(0)) * 0.1  # (2, T), the caller's RNG kept
        with torch.no_grad():
            mel = front_end(noise.to(device))  # (2, n_mels, N)
        frames = max(2, mel.shape[-1] // 2)
        # (1, n_mels, N / 2) traced; checked on another batch and length
        return mel_signature(example=mel[:1, :, :frames], check=mel[:, :, : frames + 7])


def mel_signature(*, example: torch.Tensor, check: torch.Tensor) -> ExportSignature:
    """A vocoder generator's export signature: ``mel (batch, n_mels, frames) -> audio (batch, 1, samples)``.

    Traced on ``example``, checked on ``check`` (another batch and number of frames); batch
    and length are dynamic.
    """
    return ExportSignature(
        example=(example,),
        check=(check,),
        input_names=("mel",),
        output_names=("audio",),
        dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
    )


def _check_same_rate(features: nn.Module, loss_features: nn.Module) -> None:
    """The loss front-end reads the generator's waveform, which is at the input front-end's rate."""
    rate, loss_rate = getattr(features, "sample_rate", None), getattr(loss_features, "sample_rate", None)
    if rate is not None and loss_rate is not None and int(rate) != int(loss_rate):
        raise ConfigError(
            f"objective.args.loss_features: the loss front-end {type(loss_features).__name__} runs at "
            f"{loss_rate} Hz but the input front-end `features:` ({type(features).__name__}) at {rate} Hz, "
            f"which is the rate of the audio the generator makes; set the loss front-end's sample_rate "
            f"to {rate} (its hop, FFT size and mel bands may differ)"
        )
