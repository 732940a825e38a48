"""Reusable GAN losses: adversarial criteria, gradient penalties and auxiliary losses
(feature matching, L1, Parallel WaveGAN's multi-resolution STFT loss).

The built-in ``losses`` plugin (``speechgan_plugins.losses``) registers them by name; an
objective may also import them directly.
"""

from .adversarial import (
    AdversarialCriterion,
    DiscriminatorOutput,
    Hinge,
    InstanceNoise,
    LeastSquares,
    Minimax,
    NonSaturating,
    Wasserstein,
    as_output_list,
)
from .auxiliary import (
    FeatureMaps,
    FeatureMatchingLoss,
    L1Loss,
    cycle_consistency_loss,
    feature_matching_loss,
    identity_loss,
)
from .stft import PWG_RESOLUTIONS, MultiResolutionSTFTLoss
from .topk import TopK
from .regularizers import Critic, GradientPenalty, R1Penalty, gradient_penalty, r1_penalty

__all__ = [
    "AdversarialCriterion",
    "DiscriminatorOutput",
    "as_output_list",
    "Minimax",
    "NonSaturating",
    "LeastSquares",
    "Hinge",
    "Wasserstein",
    "InstanceNoise",
    "TopK",
    "Critic",
    "gradient_penalty",
    "r1_penalty",
    "GradientPenalty",
    "R1Penalty",
    "FeatureMaps",
    "feature_matching_loss",
    "cycle_consistency_loss",
    "identity_loss",
    "FeatureMatchingLoss",
    "L1Loss",
    "MultiResolutionSTFTLoss",
    "PWG_RESOLUTIONS",
]
