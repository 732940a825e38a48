"""``speechgan corpus``: the offline demo corpus, CMU ARCTIC prompts read by eSpeak NG voices.

No download: ``speechgan corpus synth --out data/demo`` writes four speakers x 20 sentences
in the CMU ARCTIC layout in a few seconds (:mod:`.corpus_synth`, through the eSpeak NG
binding :mod:`.espeak`); ``speechgan corpus voices`` lists the voice variants a
``--speakers`` spec can name.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from speechgan import hookimpl

from . import corpus_synth, espeak

__all__ = ["corpus", "speechgan_register_commands"]


def _split_speakers(specs: tuple[str, ...]) -> list[str]:
    """``--speakers a,b --speakers c`` -> ``[a, b, c]``."""
    return [spec.strip() for group in specs for spec in group.split(",") if spec.strip()]


@click.group()
def corpus() -> None:
    """Synthesize an offline demo speech corpus (CMU ARCTIC layout, eSpeak NG voices)."""


@corpus.command()
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option(
    "--speakers",
    multiple=True,
    metavar="SPEC[,SPEC...]",
    help="Voice specs, repeatable or comma-separated: LANG+VARIANT[:pitch=P][:rate=WPM][:range=R][:id=NAME], "
    f"e.g. en-us+f3:pitch=70. Default: {','.join(corpus_synth.DEFAULT_SPEAKERS)}.",
)
@click.option("--sentences", default=20, show_default=True, type=click.IntRange(1), help="Prompts per speaker (1-1132).")
@click.option("--sample-rate", type=click.IntRange(1), default=None, help="Resample to this rate (default: 22050, the engine's).")
@click.option("--noise", type=click.Choice(["white", "pink", "babble"]), default=None, help="Also write a noisy copy.")
@click.option("--snr", "snr_db", type=float, default=None, help="SNR of the noisy copy in dB (with --noise).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of the noise.")
@click.option("--gain-db", default=-6.0, show_default=True, type=float, help="Gain of the clean speech (headroom for noise).")
@click.option("--overwrite", is_flag=True, help="Replace the speaker folders of an existing corpus in --out.")
def synth(
    out_dir: Path,
    speakers: tuple[str, ...],
    sentences: int,
    sample_rate: int | None,
    noise: corpus_synth.NoiseType | None,
    snr_db: float | None,
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
        noise=noise,
        snr_db=snr_db,
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


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    cli.add_command(corpus)
