"""Waveform-domain GANs for unconditional audio: WaveGAN and SpecGAN (Donahue et al., ICLR 2019).

WaveGAN generates 16,384-sample waveforms with DCGAN flattened to one dimension
(:mod:`.wavegan`); SpecGAN generates 128 x 128 normalised log-magnitude spectrograms and
inverts them with Griffin-Lim (:mod:`.specgan`, objective :mod:`.spec_objective`). WaveGAN
trains with the core ``gan`` objective as WGAN-GP, its conditional variant with ``cgan``;
SpecGAN with its own ``specgan`` objective, which learns the per-bin statistics before the
first step. ``speechgan generate`` (:mod:`.generate`) writes clips from either; the
spoken-digit metrics (:mod:`.metrics`, own entry point) score them.
"""

from speechgan import hookimpl

from .generate import speechgan_register_commands
from .spec_objective import SpecGAN
from .specgan import SpecGANDiscriminator, SpecGANGenerator, specgan_discriminator, specgan_generator
from .wavegan import WaveGANDiscriminator, WaveGANGenerator, wavegan_discriminator, wavegan_generator

__all__ = [
    "WaveGANGenerator",
    "WaveGANDiscriminator",
    "wavegan_generator",
    "wavegan_discriminator",
    "SpecGANGenerator",
    "SpecGANDiscriminator",
    "specgan_generator",
    "specgan_discriminator",
    "SpecGAN",
    "speechgan_register_commands",
]


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("wavegan", WaveGANGenerator, "WaveGAN generator, any size d; z ~ U(-1, 1) (Donahue et al. 2019)")
    register("wavegan_paper", wavegan_generator,
             "WaveGAN generator, d=64, 16,384 samples, 19.07M parameters (Donahue et al. 2019)")
    register("specgan", SpecGANGenerator, "SpecGAN generator, 128x128 spectrograms, any size d (Donahue et al. 2019)")
    register("specgan_paper", specgan_generator, "SpecGAN generator, d=64, 19.07M parameters (Donahue et al. 2019)")


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("wavegan", WaveGANDiscriminator,
             "WaveGAN discriminator with phase shuffle, any size d; conditioning none/concat/projection")
    register("wavegan_paper", wavegan_discriminator,
             "WaveGAN discriminator, d=64, phase shuffle 2, 17.43M parameters (Donahue et al. 2019)")
    register("specgan", SpecGANDiscriminator, "SpecGAN discriminator on 128x128 spectrograms, any size d")
    register("specgan_paper", specgan_discriminator, "SpecGAN discriminator, d=64, 17.43M parameters")


@hookimpl
def speechgan_register_objectives(register):  # type: ignore[no-untyped-def]
    register("specgan", SpecGAN, "SpecGAN: WGAN-GP on per-bin normalised log spectrograms, Griffin-Lim to audio")
