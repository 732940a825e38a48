"""Voice conversion: the generators and discriminators of CycleGAN-VC, CycleGAN-VC2, MaskCycleGAN-VC and StarGAN-VC.

Acoustic-feature-to-feature converters: every generator maps features ``(B, F, N)`` (mel-
cepstra, or log-mel spectrograms for MaskCycleGAN-VC) to converted features of the same
shape, fully convolutional along time for any ``N`` that is a multiple of its
``frame_multiple``. Discriminators take ``(B, F, N)`` and return patch logits ``(B, P)``
for the ``cyclegan`` objective's criterion; StarGAN-VC's generator and discriminator also
take the speaker (one-hot ``(B, S)`` or indices ``(B,)``), and its domain classifier
returns speaker logits ``(B, S)``.

* :mod:`.cyclegan_vc`: Kaneko & Kameoka 2018, 1-D gated CNN generator, 2-D gated CNN discriminator.
* :mod:`.cyclegan_vc2`: Kaneko et al. 2019, 2-1-2D generator and 2-D PatchGAN; MaskCycleGAN-VC
  (Kaneko et al. 2021) is the same 2-1-2D generator reading the mask as a second channel.
* :mod:`.stargan_vc`: Kameoka et al. 2018, conditional generator, discriminator and domain classifier.
* :mod:`.convert`: the ``speechgan convert`` command.
* :mod:`.evaluation`: the ``voice_conversion`` metric (MCD, F0, speaker similarity, DNSMOS against baselines).
"""

from speechgan import hookimpl

from .cyclegan_vc import CycleGANVCDiscriminator, CycleGANVCGenerator
from .cyclegan_vc2 import (
    Generator212,
    PatchGAN2d,
    cyclegan_vc2_discriminator,
    cyclegan_vc2_generator,
    maskcyclegan_vc_discriminator,
    maskcyclegan_vc_generator,
)
from .convert import speechgan_register_commands
from .evaluation import VoiceConversionMetric, voice_conversion_metric
from .stargan_vc import StarGANVCClassifier, StarGANVCDiscriminator, StarGANVCGenerator

__all__ = [
    "CycleGANVCGenerator",
    "CycleGANVCDiscriminator",
    "Generator212",
    "PatchGAN2d",
    "cyclegan_vc2_generator",
    "maskcyclegan_vc_generator",
    "cyclegan_vc2_discriminator",
    "maskcyclegan_vc_discriminator",
    "StarGANVCGenerator",
    "StarGANVCDiscriminator",
    "StarGANVCClassifier",
    "VoiceConversionMetric",
    "speechgan_register_commands",
]


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("cyclegan_vc", CycleGANVCGenerator,
             "CycleGAN-VC 1-D gated CNN generator, 24 mel-cepstra, 38.06M parameters (Kaneko & Kameoka 2018)")
    register("cyclegan_vc2", cyclegan_vc2_generator,
             "CycleGAN-VC2 2-1-2D generator, 36 mel-cepstra, 32.90M parameters (Kaneko et al. 2019)")
    register("maskcyclegan_vc", maskcyclegan_vc_generator,
             "MaskCycleGAN-VC 2-1-2D generator, 80 mels + mask, 34.37M parameters (Kaneko et al. 2021)")
    register("stargan_vc", StarGANVCGenerator,
             "StarGAN-VC conditional generator, 36 mel-cepstra, 4 speakers, 1.93M parameters (Kameoka et al. 2018)")


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("cyclegan_vc_d", CycleGANVCDiscriminator,
             "CycleGAN-VC 2-D gated CNN discriminator, 21.84M parameters (Kaneko & Kameoka 2018)")
    register("cyclegan_vc2_d", cyclegan_vc2_discriminator,
             "CycleGAN-VC2 2-D PatchGAN discriminator, 22.89M parameters (Kaneko et al. 2019)")
    register("maskcyclegan_vc_d", maskcyclegan_vc_discriminator,
             "MaskCycleGAN-VC 2-D PatchGAN discriminator on 80 mels, 22.89M parameters (Kaneko et al. 2021)")
    register("stargan_vc_d", StarGANVCDiscriminator,
             "StarGAN-VC speaker-conditional discriminator, 4 speakers, 0.17M parameters (Kameoka et al. 2018)")
    register("stargan_vc_classifier", StarGANVCClassifier,
             "StarGAN-VC domain classifier, 4 speakers, 0.03M parameters (Kameoka et al. 2018)")


@hookimpl
def speechgan_register_metrics(register):  # type: ignore[no-untyped-def]
    register("voice_conversion", voice_conversion_metric,
             "voice conversion on held-out parallel pairs vs statistics and unconverted baselines: "
             "MCD, log-F0 RMSE, V/UV, GE2E speaker similarity, DNSMOS; per-utterance CSV")
