"""DNSMOS: a no-reference (non-intrusive) estimate of the mean opinion score of speech.

Two networks trained on crowd-sourced ratings of noisy and noise-suppressed speech:

* the P.835 model (Reddy, Gopal & Cutler, "DNSMOS P.835: a non-intrusive perceptual
  objective speech quality metric to evaluate noise suppressors", ICASSP 2022): signal
  quality (SIG), background noise (BAK) and overall quality (OVRL), each on the 1 .. 5
  scale of ITU-T P.835;
* the P.808 model (Reddy, Gopal & Cutler, "DNSMOS: a non-intrusive perceptual objective
  speech quality metric to evaluate noise suppressors", ICASSP 2021): one overall MOS on
  the scale of ITU-T P.808.

The models, their input features and their score mapping are those of the ``speechmos``
package (Microsoft's DNS Challenge release), run by ``onnxruntime`` on one CPU thread.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InstallError
from ._signal import Waveform, as_numpy_waveform, check_sample_rate
from .waveform import _resample

__all__ = ["dnsmos", "DNSMOS_SAMPLE_RATE", "DNSMOS_MIN_SECONDS"]

#: The models take 16 kHz audio; other rates are resampled to it.
DNSMOS_SAMPLE_RATE = 16000
#: speechmos repeats a clip shorter than the models' 9.01 s input until it fills it, and
#: scores the repetition. Measured on 24 CMU Arctic sentences spoken by espeak-ng (the
#: demo corpus, 1.4 .. 5.6 s): the largest SIG/BAK/OVRL difference between a looped middle
#: excerpt and the whole sentence is, on average, 1.2 MOS at 0.5 s, 1.1 at 0.75 s, 0.8 at
#: 1 s, 0.6 at 1.25 s and 0.5 .. 0.6 at 1.5 and 2 s (where the excerpt's content, not the
#: loop, makes the difference); the worst case falls from 2.8 at 0.75 s to 1.7 at 1 s.
DNSMOS_MIN_SECONDS = 1.0

_SCORE_KEYS = {"dnsmos_sig": "sig_mos", "dnsmos_bak": "bak_mos", "dnsmos_ovrl": "ovrl_mos", "dnsmos_p808": "p808_mos"}


@functools.cache
def _scorer() -> Any:
    """speechmos' DNSMOS (non-personalized) with single-threaded ONNX sessions, built once.

    ``speechmos.dnsmos.run`` makes its sessions with onnxruntime's defaults, one intra-op
    thread per core; this keeps its feature and score code and makes the sessions here.
    """
    try:
        import onnxruntime as ort
        from speechmos import dnsmos as speechmos_dnsmos
    except ImportError as exc:
        raise InstallError(
            f"DNSMOS needs the speechmos and onnxruntime packages ({exc}); "
            "install them with: pip install 'speechmos>=0.0.1' 'onnxruntime>=1.17'"
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    models = Path(speechmos_dnsmos.__file__).parent / "dnsmos_models"

    def session(name: str) -> Any:
        return ort.InferenceSession(str(models / name), options, providers=["CPUExecutionProvider"])

    class SingleThreadDNSMOS(speechmos_dnsmos.DNSMOS):
        def __init__(self) -> None:  # the attributes speechmos' __call__ reads
            self.primary_model_path = str(models / "sig_bak_ovr.onnx")
            self.onnx_sess = session("sig_bak_ovr.onnx")
            self.p808_onnx_sess = session("model_v8.onnx")

    return SingleThreadDNSMOS()


def dnsmos(wave: Waveform, sample_rate: int) -> dict[str, float]:
    """DNSMOS of one mono waveform: ``{"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"}``.

    The same numbers as ``speechmos.dnsmos.run(audio, 16000)`` with its default
    ``model_type="dnsmos"``: the non-personalized P.835 model (the personalized one also
    penalizes interfering talkers), its SIG/BAK/OVRL mapped by speechmos' polynomial fit,
    and the P.808 model's MOS. Needs no reference.

    ``wave`` holds float samples in [-1, 1] (a ``DataError`` otherwise; divide int16 audio
    by 32768). Another ``sample_rate`` is resampled to 16 kHz with soxr, as for PESQ, and
    the result clipped to [-1, 1] (the resampling filter can overshoot full scale a little).
    The score is the mean over 9.01 s windows at 1 s hops; what follows the last full
    window (up to 2 s) is not scored. speechmos first doubles a clip under 9.01 s until it
    is that long (1.2 s: 9.6 s, one window; 2 s: 16 s, seven windows of the looped clip). A
    clip under ``DNSMOS_MIN_SECONDS`` (1 s) is a ``DataError``: its loop would be scored.
    """
    sr = check_sample_rate(sample_rate)
    x = as_numpy_waveform(wave, "wave")
    seconds = len(x) / sr
    if seconds < DNSMOS_MIN_SECONDS:
        raise DataError(
            f"DNSMOS: the waveform is too short ({seconds:.3f} s, {len(x)} samples at {sr} Hz); it needs at "
            f"least {DNSMOS_MIN_SECONDS:g} s (shorter clips would be looped to the model's 9.01 s input)"
        )
    peak = float(np.abs(x).max())
    if peak > 1.0:
        raise DataError(
            f"DNSMOS: expected float samples in [-1, 1], got a peak of {peak:.4g}; "
            "scale the waveform (int16 samples: divide by 32768)"
        )
    x = np.clip(_resample(x, sr, DNSMOS_SAMPLE_RATE), -1.0, 1.0).astype(np.float32)  # (T,) at 16 kHz
    scores = _scorer()(x, DNSMOS_SAMPLE_RATE, False)  # False: not the personalized model
    return {key: float(scores[name]) for key, name in _SCORE_KEYS.items()}
