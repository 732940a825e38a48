"""Speech enhancement with GANs: SEGAN (Pascual, Bonafonte & Serra, Interspeech 2017).

SEGAN maps noisy 16 kHz waveforms to clean ones end to end: a strided convolutional
encoder-decoder with skip connections and a latent at the bottleneck (:mod:`.segan`),
judged on (clean-or-enhanced, noisy) pairs by a discriminator with virtual batch norm,
trained with a least-squares adversarial loss plus L1 (:mod:`.objective`). The classical
Wiener filter (:mod:`.wiener`) is the baseline it is measured against; ``speechgan
enhance`` (:mod:`.enhance`) runs a trained model on files or folders of any length, and the
``speech_enhancement`` metric (:mod:`.evaluation`) scores a run, the noisy input and the
Wiener filter alike (PESQ, STOI, SSNR, CSIG/CBAK/COVL).
"""

from speechgan import hookimpl

from .enhance import speechgan_register_commands
from .evaluation import SpeechEnhancementMetric, speech_enhancement_metric
from .objective import SEGAN
from .segan import SEGANDiscriminator, SEGANGenerator, segan_discriminator, segan_generator
from .wiener import wiener_filter

__all__ = [
    "SEGAN",
    "SEGANGenerator",
    "SEGANDiscriminator",
    "segan_generator",
    "segan_discriminator",
    "wiener_filter",
    "SpeechEnhancementMetric",
    "speech_enhancement_metric",
    "speechgan_register_commands",
]


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("segan", SEGANGenerator,
             "SEGAN encoder-decoder, skip connections, latent at the bottleneck; any width (Pascual et al. 2017)")
    register("segan_paper", segan_generator, "SEGAN generator, 11 + 11 layers, 73.10M parameters (Pascual et al. 2017)")


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("segan", SEGANDiscriminator, "SEGAN discriminator on (clean-or-enhanced, noisy) pairs, virtual batch norm")
    register("segan_paper", segan_discriminator, "SEGAN discriminator, 24.37M parameters (Pascual et al. 2017)")


@hookimpl
def speechgan_register_objectives(register):  # type: ignore[no-untyped-def]
    register("segan", SEGAN, "speech-enhancement GAN: least-squares adversarial loss + L1 x 100, pre-emphasis 0.95")


@hookimpl
def speechgan_register_metrics(register):  # type: ignore[no-untyped-def]
    register("speech_enhancement", speech_enhancement_metric,
             "speech enhancement on whole utterances vs the noisy input and a Wiener filter: PESQ, STOI, SSNR, "
             "CSIG/CBAK/COVL per system and noise type; per-utterance CSV")
