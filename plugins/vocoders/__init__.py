"""GAN vocoders: HiFi-GAN and MelGAN generators, their discriminators and UnivNet's MRD.

Mel-spectrogram ``(B, n_mels, N)`` to waveform ``(B, 1, N * hop)`` generators with their
paper presets (:mod:`.hifigan`, :mod:`.melgan`) and waveform discriminators returning
``(logits, feature_maps)`` for the ``vocoder`` objective (:mod:`.discriminators`,
:func:`.melgan.melgan_msd`). Generators expose ``upsample_factor`` (checked against the
front-end's hop when a config loads) and ``remove_weight_norm()`` for inference and export.
The ``speechgan vocode`` command (:mod:`.vocode`) turns audio files and ``.npy`` mels into WAVs.
"""

from speechgan import hookimpl

from .discriminators import (
    MultiPeriodDiscriminator,
    MultiResolutionDiscriminator,
    MultiScaleDiscriminator,
    PeriodDiscriminator,
    ResolutionDiscriminator,
    hifigan_msd,
)
from .hifigan import HiFiGANGenerator, hifigan_v1, hifigan_v2, hifigan_v3
from .melgan import MelGANGenerator, melgan_msd
from .vocode import speechgan_register_commands, vocode_files

__all__ = [
    "HiFiGANGenerator",
    "hifigan_v1",
    "hifigan_v2",
    "hifigan_v3",
    "MelGANGenerator",
    "PeriodDiscriminator",
    "MultiPeriodDiscriminator",
    "MultiScaleDiscriminator",
    "hifigan_msd",
    "melgan_msd",
    "ResolutionDiscriminator",
    "MultiResolutionDiscriminator",
    "vocode_files",
    "speechgan_register_commands",
]


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("hifigan", HiFiGANGenerator, "HiFi-GAN generator, any upsampling and MRF layout (Kong et al. 2020)")
    register("hifigan_v1", hifigan_v1, "HiFi-GAN V1 generator, 13.92M parameters (Kong et al. 2020)")
    register("hifigan_v2", hifigan_v2, "HiFi-GAN V2 generator, 0.92M parameters (Kong et al. 2020)")
    register("hifigan_v3", hifigan_v3, "HiFi-GAN V3 generator, 1.46M parameters (Kong et al. 2020)")
    register("melgan", MelGANGenerator, "MelGAN generator, 4.26M parameters (Kumar et al. 2019)")


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("hifigan_mpd", MultiPeriodDiscriminator,
             "HiFi-GAN multi-period discriminator, periods 2/3/5/7/11 (Kong et al. 2020)")
    register("hifigan_msd", hifigan_msd, "HiFi-GAN multi-scale discriminator, 3 scales (Kong et al. 2020)")
    register("melgan_msd", melgan_msd, "MelGAN multi-scale window-based discriminator, 3 scales (Kumar et al. 2019)")
    register("univnet_mrd", MultiResolutionDiscriminator,
             "UnivNet multi-resolution spectrogram discriminator, 3 STFTs (Jang et al. 2021)")
