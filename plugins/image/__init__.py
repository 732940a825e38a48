"""Image and label GANs: DCGAN, conditional GAN, ACGAN and a GAN-trained multi-label classifier.

Proof that the trainer and the plugin system know nothing of speech: the classic image
experiments of the GAN literature as one more plugin, on data that needs no download
(scikit-learn's 8x8 digits) or that a user already has (MNIST-style IDX files). The
unconditional DCGAN trains with the built-in ``gan`` objective; the image metrics live in
the ``image_metrics`` plugin (:mod:`speechgan_plugins.image.metrics`).
"""

from speechgan import hookimpl

from .datasets import Digits, IdxImages, MultiLabelDigits, read_idx
from .models import DCGANClassifier, DCGANDiscriminator, DCGANGenerator
from .objectives import ACGAN, ConditionalGAN, ImageToLabel

__all__ = [
    "DCGANGenerator",
    "DCGANDiscriminator",
    "DCGANClassifier",
    "ConditionalGAN",
    "ACGAN",
    "ImageToLabel",
    "Digits",
    "MultiLabelDigits",
    "IdxImages",
    "read_idx",
]


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("dcgan", DCGANGenerator, "DCGAN generator, 8/28/32/64 px, optionally class-conditional (Radford et al. 2016)")
    register("dcgan_classifier", DCGANClassifier, "DCGAN-trunk multi-label classifier: image -> sigmoid label probabilities")


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("dcgan", DCGANDiscriminator, "DCGAN discriminator; conditioning none/concat/projection/auxiliary (ACGAN)")


@hookimpl
def speechgan_register_objectives(register):  # type: ignore[no-untyped-def]
    register("cgan", ConditionalGAN, "conditional GAN, labels into G and D (Mirza & Osindero 2014; projection D)")
    register("acgan", ACGAN, "auxiliary classifier GAN: D predicts real/fake and the class (Odena et al. 2017)")
    register("image_to_label", ImageToLabel, "multi-label classifier trained as a conditional GAN: adv + supervised BCE")


@hookimpl
def speechgan_register_datasets(register):  # type: ignore[no-untyped-def]
    register("digits", Digits, "scikit-learn's 8x8 digits, fixed stratified 1,347/450 split, optional resize")
    register("multilabel_digits", MultiLabelDigits, "two digits overlaid or side by side, multi-hot labels")
    register("idx_images", IdxImages, "MNIST / Fashion-MNIST IDX image and label files (gzipped or not)")
