"""``speechgan corpus``: the offline demo corpus, CMU ARCTIC prompts read by eSpeak NG voices.

No download: ``speechgan corpus synth --out data/demo`` writes four speakers x 20 sentences
in the CMU ARCTIC layout in a few seconds (:mod:`.corpus_synth`, through the eSpeak NG
binding :mod:`.espeak`); ``speechgan corpus voices`` lists the voice variants a
``--speakers`` spec can name. ``speechgan corpus digits --out data/sc09`` writes an SC09-style
corpus of spoken digits in the Speech Commands layout (:mod:`.digits`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from speechgan import hookimpl
from speechgan.errors import ConfigError

from . import corpus_synth, espeak
from .digits import ACCENTS, VARIANTS, synthesize_digits
from .digits import DEFAULT_SPEAKERS as DIGIT_SPEAKERS

__all__ = ["corpus", "speechgan_register_commands"]


#: what a ``--speakers`` spec holds (:meth:`.corpus_synth.Speaker.parse`)
_SPEAKER_SPEC = "LANG+VARIANT[:pitch=P][:rate=WPM][:range=R][:id=NAME]"
_out_option = click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output directory.")


def _speakers_option(help_tail: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--speakers``, repeatable or comma-separated, for ``synth`` and ``digits``; ``help_tail`` ends the
    help (an example, the default speakers)."""
    return click.option("--speakers", multiple=True, metavar="SPEC[,SPEC...]",
                        help=f"Voice specs, repeatable or comma-separated: {_SPEAKER_SPEC}{help_tail}")


def _split_speakers(specs: tuple[str, ...]) -> list[str]:
    """``--speakers a,b --speakers c`` -> ``[a, b, c]``."""
    return [spec.strip() for group in specs for spec in group.split(",") if spec.strip()]


def _parse_noise(text: str | None) -> str | list[str] | None:
    """``--noise white`` -> ``"white"``; ``white,pink,babble`` -> a list (checked by ``noise_plan``)."""
    if text is None:
        return None
    types = [t.strip() for t in text.split(",") if t.strip()]
    return types[0] if len(types) == 1 else types


def _parse_snr(text: str | None) -> float | tuple[float, float] | None:
    """``--snr 5`` -> ``5.0``; ``0:15`` -> ``(0.0, 15.0)``; ``-5:5`` -> ``(-5.0, 5.0)``."""
    if text is None:
        return None
    low, colon, high = text.partition(":")
    try:
        return (float(low), float(high)) if colon else float(text)
    except ValueError:
        raise ConfigError(f"--snr: expected a number of dB or a range LOW:HIGH (such as 0:15), got {text!r}") from None


@click.group()
def corpus() -> None:
    """Synthesize an offline demo speech corpus (CMU ARCTIC layout, eSpeak NG voices)."""


@corpus.command()
@_out_option
@_speakers_option(f", e.g. en-us+f3:pitch=70. Default: {','.join(corpus_synth.DEFAULT_SPEAKERS)}.")
@click.option("--sentences", default=20, show_default=True, type=click.IntRange(1), help="Prompts per speaker (1-1132).")
@click.option("--sample-rate", type=click.IntRange(1), default=None, help="Resample to this rate (default: 22050, the engine's).")
@click.option(
    "--noise",
    default=None,
    metavar="TYPE[,TYPE...]",
    help="Also write a noisy copy: white, pink, babble or speech_shaped; several, comma-separated, are drawn per utterance "
    "(into wav_noisy_mix/, listed in its noise.csv).",
)
@click.option(
    "--snr",
    "snr_db",
    default=None,
    metavar="DB|LOW:HIGH",
    help="SNR of the noisy copy in dB, or a range drawn from uniformly per utterance, e.g. 0:15 (with --noise).",
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of the noise.")
@click.option("--gain-db", default=-6.0, show_default=True, type=float, help="Gain of the clean speech (headroom for noise).")
@click.option("--overwrite", is_flag=True, help="Replace the speaker folders of an existing corpus in --out.")
def synth(
    out_dir: Path,
    speakers: tuple[str, ...],
    sentences: int,
    sample_rate: int | None,
    noise: str | None,
    snr_db: str | None,
    seed: int,
    gain_db: float,
    overwrite: bool,
) -> None:
    """Write CMU ARCTIC prompts read by eSpeak NG voices to OUT/cmu_us_<speaker>_arctic/."""
    start = time.perf_counter()
    manifest = corpus_synth.synthesize_corpus(
        out_dir,
        _split_speakers(speakers) or corpus_synth.DEFAULT_SPEAKERS,
        sentences,
        sample_rate=sample_rate,
        seed=seed,
        noise=_parse_noise(noise),  # type: ignore[arg-type]  # checked by corpus_synth.noise_plan
        snr_db=_parse_snr(snr_db),
        gain_db=gain_db,
        overwrite=overwrite,
    )
    elapsed = time.perf_counter() - start
    seconds = manifest["total_seconds"]
    click.echo(
        f"wrote {len(manifest['speakers'])} speakers x {manifest['utterances_per_speaker']} utterances "
        f"({seconds:.1f} s of speech, {manifest['sample_rate']} Hz) to {out_dir} "
        f"in {elapsed:.1f} s ({seconds / elapsed:.0f}x real time)"
    )


@corpus.command()
def voices() -> None:
    """List the eSpeak NG voice variants (the part after '+' in a speaker spec)."""
    for variant in sorted(espeak.list_variants().values(), key=lambda v: v.file.lower()):
        click.echo(f"{variant.file:<14} {variant.gender or '-':<7} {variant.name}")


@corpus.command()
@_out_option
@_speakers_option(f". Default: {len(DIGIT_SPEAKERS)} speakers, {len(ACCENTS)} English accents x {len(VARIANTS)} "
                  "variants.")
@click.option("--takes", default=2, show_default=True, type=click.IntRange(1), help="Takes of each word a speaker says.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of the takes' pitch and rate.")
@click.option("--overwrite", is_flag=True, help="Replace the word folders and split lists of a corpus in --out.")
def digits(out_dir: Path, speakers: tuple[str, ...], takes: int, seed: int, overwrite: bool) -> None:
    """Write spoken digits (SC09) to OUT/<word>/<speaker>_nohash_<take>.wav, 16 kHz, split by speaker."""
    start = time.perf_counter()
    manifest = synthesize_digits(
        out_dir, speakers=_split_speakers(speakers) or DIGIT_SPEAKERS, takes=takes, seed=seed, overwrite=overwrite
    )
    splits = ", ".join(f"{name} {s['speakers']} speakers / {s['clips']} clips" for name, s in manifest["splits"].items())
    click.echo(f"wrote {manifest['total_clips']} one-second clips ({splits}) to {out_dir} "
               f"in {time.perf_counter() - start:.1f} s")


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    cli.add_command(corpus)
