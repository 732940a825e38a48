"""Conditional image GANs and a GAN-trained multi-label classifier.

* ``cgan``: conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial
  Nets"): G(z, y) and D(x, y). Real pairs come from a ``LABELS`` batch (``x``, ``label``);
  fakes get labels drawn uniformly. D is conditioned by concatenation or by projection
  (Miyato & Koyama 2018): see :class:`~speechgan_plugins.image.models.DCGANDiscriminator`.
  Terms ``d/adv``, ``g/adv`` and, optional, R1 on real pairs (``d/r1``, weight gamma/2) or
  WGAN-GP's penalty (``d/gp``, weight lambda; Gulrajani et al. 2017) on interpolates of real
  and fake inputs, judged with the real labels: with the ``wasserstein`` criterion and 5
  critic steps this is a conditional WGAN-GP (a conditional WaveGAN, say).
* ``acgan``: auxiliary classifier GAN (Odena et al. 2017, "Conditional Image Synthesis with
  Auxiliary Classifier GANs"): D sees only the image and returns ``(logit, class_logits)``.
  With ``L_S`` the source (real/fake) log-likelihood and ``L_C`` the class log-likelihood of
  real and fake images, D maximises ``L_S + L_C`` and G maximises ``L_C - L_S``; here, as
  losses to minimise, ``d/adv`` and ``g/adv`` carry ``L_S`` through the configured criterion,
  ``d/cls`` is the cross-entropy on real and fake images and ``g/cls`` that on fakes.
* ``image_to_label``: a multi-label classifier trained as a conditional GAN: G maps an
  image to label probabilities (B, K), D judges (image, label vector) pairs, true vectors
  against G's; ``g/sup`` is the usual binary cross-entropy. ``loss_weights: {g/adv: 0}`` is
  the same classifier trained without the adversarial term (D is still stepped but G never
  sees it, and the adversarial G term is not even computed).

Sampling contract for metrics: ``cgan`` and ``acgan`` have ``num_classes`` and
``sample_conditional(g=, labels=, device=)`` (images (n, C, H, W) in [-1, 1]); their
``sample`` draws balanced labels ``arange(n) % num_classes``. ``image_to_label`` has
``num_labels`` and ``predict(g=, images=)`` (probabilities (n, K)).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.batches import LABELS
from speechgan.errors import ConfigError, DataError
from speechgan.losses import AdversarialCriterion, gradient_penalty, r1_penalty
from speechgan.objective import ImageSample, Objective, check_num_classes, d_adv_terms, draw_latent, waveform_samples
from speechgan.registry import ComponentRef

__all__ = ["ConditionalGAN", "ACGAN", "ImageToLabel", "labelled", "binary_cross_entropy"]


def labelled(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (B, C, H, W) and labels (B,) or (B, K) of a ``LABELS`` batch."""
    return batch["x"], batch["label"]


def binary_cross_entropy(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of probabilities (autocast refuses PyTorch's own).

    A sigmoid saturates to exactly 0 or 1 in float32; clamping the probabilities (not their
    logs) keeps both the loss and its gradient finite there.
    """
    p = probs.float()
    log_p, log_q = torch.log(p.clamp_min(1e-12)), torch.log((1.0 - p).clamp_min(1e-12))
    return -(targets * log_p + (1.0 - targets) * log_q).mean()


class ConditionalGAN(Objective):
    """Conditional GAN: G(z, y) against D(x, y), fake labels uniform (Mirza & Osindero 2014)."""

    name = "cgan"
    generator_roles = ("generator",)
    discriminator_roles = ("discriminator",)
    terms = {"d/adv": 1.0, "d/gp": 0.0, "d/r1": 0.0, "g/adv": 1.0}
    reads = LABELS.keys

    def __init__(
        self,
        num_classes: int = 10,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "non_saturating",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ConfigError(f"objective.args.num_classes must be >= 1, got {num_classes}")
        self.num_classes, self.criterion = num_classes, criterion

    # -- sampling ---------------------------------------------------------------------

    def sample_conditional(self, *, g: nn.ModuleDict, labels: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Images (n, C, H, W) in [-1, 1] of the classes ``labels`` (n,) long."""
        gen = g["generator"]
        check_num_classes(gen, role="generator", num_classes=self.num_classes, objective=self.name)
        return gen(draw_latent(gen, labels.shape[0], device), labels.to(device))

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        """``n`` images, classes balanced: labels ``arange(n) % num_classes``."""
        return self.sample_conditional(g=g, labels=torch.arange(n, device=device) % self.num_classes, device=device)

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        """Images: 8 of each class, in order. Waveforms (n, 1, T): one clip of each class at the
        generator's ``sample_rate``, and their spectrograms."""
        device = labelled(batch)[0].device
        rate = getattr(g["generator"], "sample_rate", None)  # waveform generators say theirs: one clip per class
        labels = torch.arange(self.num_classes, device=device).repeat_interleave(1 if rate else 8)  # in order
        fake = self.sample_conditional(g=g, labels=labels, device=device).float().cpu()
        if fake.dim() == 3 and fake.shape[1] == 1 and rate:
            names = [f"class_{c}" for c in range(self.num_classes)]
            return waveform_samples(fake, sample_rate=int(rate), names=names)
        return {"fake": ImageSample(fake, normalize=True)}

    # -- training ---------------------------------------------------------------------

    def generate(self, batch: Any, *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        real, _ = labelled(batch)
        labels = torch.randint(self.num_classes, (real.shape[0],), device=real.device)  # (B,) uniform
        return {"fake": self.sample_conditional(g=g, labels=labels, device=real.device), "labels": labels}

    def judge(self, d: nn.ModuleDict, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's (logits, class logits or None) on images ``x`` of classes ``labels``."""
        disc = d["discriminator"]
        check_num_classes(disc, role="discriminator", num_classes=self.num_classes, objective=self.name)
        return disc(x, labels), None

    def class_terms(self, prefix: str, outputs: list[tuple[torch.Tensor | None, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Extra terms from (class logits, labels) pairs; none for a plain conditional GAN."""
        return {}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real, real_labels = labelled(batch)
        if weights.get("d/r1", 0.0):
            real = real.detach().requires_grad_(True)
        real_out, real_cls = self.judge(d, real, real_labels)
        fake_out, fake_cls = self.judge(d, state["fake"].detach(), state["labels"])
        terms = d_adv_terms(self.criterion, real_out, fake_out)
        if weights.get("d/gp", 0.0):  # D(x_hat, y) on interpolates of the real and fake inputs, real labels
            terms["d/gp"] = gradient_penalty(lambda x: self.judge(d, x, real_labels)[0], real, state["fake"])
        if weights.get("d/r1", 0.0):
            terms["d/r1"] = r1_penalty(real_out, real)
        return terms | self.class_terms("d", [(real_cls, real_labels), (fake_cls, state["labels"])])

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        fake_out, fake_cls = self.judge(d, state["fake"], state["labels"])
        return {"g/adv": self.criterion.generator_loss(fake_out)} | self.class_terms("g", [(fake_cls, state["labels"])])


class ACGAN(ConditionalGAN):
    """Auxiliary classifier GAN: D(x) -> (real/fake logit, class logits) (Odena et al. 2017)."""

    name = "acgan"
    terms = {"d/adv": 1.0, "d/cls": 1.0, "d/gp": 0.0, "d/r1": 0.0, "g/adv": 1.0, "g/cls": 1.0}

    def judge(self, d: nn.ModuleDict, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        disc = d["discriminator"]
        out = disc(x)
        if not (isinstance(out, tuple) and len(out) == 2 and out[1].shape[-1] == self.num_classes):
            raise ConfigError(
                f"objective 'acgan' needs a discriminator returning (logit, class_logits) over {self.num_classes} "
                f"classes, e.g. dcgan with conditioning: auxiliary and num_classes: {self.num_classes}"
            )
        return out

    def class_terms(self, prefix: str, outputs: list[tuple[torch.Tensor | None, torch.Tensor]]) -> dict[str, torch.Tensor]:
        # -L_C: the class cross-entropy summed over real and fake images (D), over fakes (G)
        loss = torch.stack([F.cross_entropy(logits, labels) for logits, labels in outputs]).sum()  # type: ignore[arg-type]
        logits, labels = outputs[0]
        accuracy = (logits.detach().argmax(dim=1) == labels).float().mean()  # type: ignore[union-attr]
        return {f"{prefix}/cls": loss, f"stats/{prefix}_{'real' if prefix == 'd' else 'fake'}_class_accuracy": accuracy}


class ImageToLabel(Objective):
    """Multi-label classification as a conditional GAN: G(image) -> label probabilities, D(image, labels)."""

    generator_roles = ("generator",)
    discriminator_roles = ("discriminator",)
    terms = {"d/adv": 1.0, "g/adv": 1.0, "g/sup": 1.0}
    reads = LABELS.keys

    def __init__(
        self,
        num_labels: int = 10,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "non_saturating",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        if num_labels < 1:
            raise ConfigError(f"objective.args.num_labels must be >= 1, got {num_labels}")
        self.num_labels, self.criterion = num_labels, criterion

    def _batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        images, vectors = labelled(batch)
        if vectors.dim() != 2 or vectors.shape[1] != self.num_labels:
            raise DataError(
                f"objective 'image_to_label' expects label vectors (B, {self.num_labels}) (num_labels), "
                f"got labels of shape {tuple(vectors.shape)}; use a multi-label dataset such as multilabel_digits"
            )
        return images, vectors.float()

    def predict(self, *, g: nn.ModuleDict, images: torch.Tensor) -> torch.Tensor:
        """Label probabilities (n, K) for images (n, C, H, W)."""
        return g["generator"](images)

    def generate(self, batch: Any, *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        images, _ = self._batch(batch)
        return {"probs": self.predict(g=g, images=images)}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        images, vectors = self._batch(batch)
        disc = d["discriminator"]
        real_out, fake_out = disc(images, vectors), disc(images, state["probs"].detach())
        return d_adv_terms(self.criterion, real_out, fake_out)

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        images, vectors = self._batch(batch)
        probs = state["probs"]  # (B, K) in (0, 1)
        terms = {
            "g/sup": binary_cross_entropy(probs, vectors),
            "stats/exact_match": ((probs.detach() > 0.5) == (vectors > 0.5)).all(dim=1).float().mean(),
        }
        if weights.get("g/adv", 0.0):
            terms["g/adv"] = self.criterion.generator_loss(d["discriminator"](images, probs))
        return terms
