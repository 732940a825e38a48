"""Built-in plugin: the GAN losses of :mod:`speechgan.losses`, registered by name.

Adversarial criteria (``discriminator_loss`` / ``generator_loss``), instance noise,
gradient penalties and auxiliary losses (feature matching, L1, multi-resolution STFT); an
objective builds them from its config.
"""

from __future__ import annotations

from speechgan import hookimpl
from speechgan.hookspecs import Register
from speechgan.losses import (
    FeatureMatchingLoss,
    GradientPenalty,
    Hinge,
    InstanceNoise,
    L1Loss,
    LeastSquares,
    Minimax,
    MultiResolutionSTFTLoss,
    NonSaturating,
    R1Penalty,
    TopK,
    Wasserstein,
)


@hookimpl
def speechgan_register_losses(register: Register) -> None:
    register("minimax", Minimax, "minimax GAN loss, saturating G (Goodfellow et al. 2014)")
    register("non_saturating", NonSaturating, "non-saturating GAN loss, G maximises log D(G(z)) (Goodfellow et al. 2014)")
    register("least_squares", LeastSquares, "least-squares GAN loss, HiFi-GAN convention (Mao et al. 2017)")
    register("hinge", Hinge, "hinge GAN loss (Lim & Ye 2017; Miyato et al. 2018)")
    register("wasserstein", Wasserstein, "Wasserstein critic loss (Arjovsky et al. 2017)")
    register("instance_noise", InstanceNoise, "annealed Gaussian noise on D's inputs (Sønderby et al. 2016)")
    register("top_k", TopK, "top-k G updates: only the k best-scored fakes train G (Sinha et al. 2020)")
    register("gradient_penalty", GradientPenalty, "WGAN-GP gradient penalty on interpolates (Gulrajani et al. 2017)")
    register("r1", R1Penalty, "R1 gradient penalty on real data (Mescheder et al. 2018)")
    register("feature_matching", FeatureMatchingLoss, "L1 feature matching on D's feature maps (MelGAN, HiFi-GAN)")
    register("l1", L1Loss, "mean absolute error: cycle-consistency and identity losses (CycleGAN)")
    register(
        "multi_resolution_stft", MultiResolutionSTFTLoss,
        "spectral convergence + log STFT magnitude at 3 resolutions (Parallel WaveGAN, Yamamoto et al. 2020)",
    )
