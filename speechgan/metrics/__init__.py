"""Speech and audio metrics: pure functions, waveforms (NumPy or torch) in, a float out.

* :mod:`.speech`: WORLD-based mel-cepstral distortion, log-F0 RMSE, V/UV error (``MCD.md``
  documents exactly which MCD variant).
* :mod:`.spectral`: HiFi-GAN's log-mel L1 error, Parallel WaveGAN's multi-resolution STFT
  distance.
* :mod:`.waveform`: SI-SDR, wideband PESQ, (E)STOI.
* :mod:`.enhancement`: segmental SNR, LLR, WSS and the composite CSIG/CBAK/COVL (Hu & Loizou 2008).
* :mod:`.dtw`: the dynamic time warping the speech metrics align with.
* :mod:`.speaker`: GE2E speaker embeddings (resemblyzer) and their cosine similarity.
* :mod:`.dnsmos`: DNSMOS, a no-reference MOS estimate.

The registered metric components (``mcd``, ``pesq``...) live in the ``speech_metrics``
plugin (``speechgan_plugins.audio.metrics``).
"""

from .dnsmos import dnsmos
from .dtw import dtw_path
from .enhancement import composite, composite_scores, llr, segmental_snr, wss
from .speaker import centroid, cosine_similarity, speaker_embedding
from .spectral import PWG_RESOLUTIONS, log_mel_l1, log_mel_spectrogram, multi_resolution_stft_distance
from .speech import (
    CENTS_PER_NEPER,
    MCEP_ORDER,
    WorldAnalysis,
    align_frames,
    aligned_f0,
    log_f0_rmse,
    log_f0_rmse_from_f0,
    mcd_from_mcep,
    mel_cepstral_distortion,
    voicing_error,
    world_features,
)
from .waveform import PESQ_SAMPLE_RATE, pesq_wb, si_sdr, stoi

__all__ = [
    "speaker_embedding",
    "centroid",
    "cosine_similarity",
    "CENTS_PER_NEPER",
    "MCEP_ORDER",
    "PESQ_SAMPLE_RATE",
    "PWG_RESOLUTIONS",
    "WorldAnalysis",
    "align_frames",
    "aligned_f0",
    "dnsmos",
    "composite",
    "composite_scores",
    "dtw_path",
    "llr",
    "log_f0_rmse",
    "log_f0_rmse_from_f0",
    "log_mel_l1",
    "log_mel_spectrogram",
    "mcd_from_mcep",
    "mel_cepstral_distortion",
    "multi_resolution_stft_distance",
    "pesq_wb",
    "segmental_snr",
    "si_sdr",
    "stoi",
    "voicing_error",
    "world_features",
    "wss",
]
