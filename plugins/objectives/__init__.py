"""Built-in training objectives: the GAN families speechgan trains out of the box."""

from speechgan import hookimpl

from .cyclegan import CycleGAN
from .gan import GAN
from .stargan import StarGAN
from .vocoder import Vocoder

__all__ = ["GAN", "Vocoder", "CycleGAN", "StarGAN"]


@hookimpl
def speechgan_register_objectives(register):  # type: ignore[no-untyped-def]
    register("gan", GAN, "unconditional GAN, any criterion, GP/R1/packing (Goodfellow et al. 2014)")
    register("vocoder", Vocoder, "features-to-waveform GAN vocoder: adv + feature matching + mel L1 (HiFi-GAN)")
    register("cyclegan", CycleGAN, "unpaired two-domain translation: adv + cycle + identity (CycleGAN, CycleGAN-VC)")
    register("stargan", StarGAN, "many-to-many voice conversion with one conditional generator, a speaker-conditional "
             "discriminator and a domain classifier (StarGAN-VC, Kameoka et al. 2018)")
