"""``corpus synth`` and ``corpus voices`` through the plugin's command hook."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from speechgan.errors import ConfigError


def test_synth_writes_two_speakers_by_two_sentences(cli: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli,
        ["corpus", "synth", "--out", str(out), "--speakers", "en-us+f3,en-us+m1:pitch=40",
         "--sentences", "2", "--noise", "white", "--snr", "10", "--sample-rate", "16000"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(rf"wrote 2 speakers x 2 utterances \([\d.]+ s of speech, 16000 Hz\) to {out} in ", result.output)
    for speaker in ("f3", "m1"):
        for folder in ("wav", "wav_noisy_white10"):
            names = sorted(p.name for p in (out / f"cmu_us_{speaker}_arctic" / folder).iterdir())
            assert names == ["arctic_a0001.wav", "arctic_a0002.wav"]
    assert '"pitch": 40' in (out / "corpus.json").read_text()


def test_repeated_speakers_option(cli: click.Group, tmp_path: Path) -> None:
    args = ["corpus", "synth", "--out", str(tmp_path), "--sentences", "1"]
    result = CliRunner().invoke(cli, args + ["--speakers", "en+f3", "--speakers", "en+m1:id=low"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("cmu_us_*")) == ["cmu_us_f3_arctic", "cmu_us_low_arctic"]


def test_user_errors_raise_speechgan_errors(cli: click.Group, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["corpus", "synth", "--out", str(tmp_path / "a"), "--speakers", "en+nosuch"])
    assert isinstance(result.exception, ConfigError)
    assert "unknown eSpeak NG voice variant 'nosuch'" in str(result.exception)

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.wav").write_bytes(b"x")
    result = runner.invoke(cli, ["corpus", "synth", "--out", str(tmp_path / "full")])
    assert isinstance(result.exception, ConfigError)
    assert "is not empty; choose another one or pass --overwrite" in str(result.exception)
    assert (tmp_path / "full" / "keep.wav").read_bytes() == b"x"

    result = runner.invoke(cli, ["corpus", "synth", "--out", str(tmp_path / "b"), "--noise", "pink"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == "noise and snr_db (--noise, --snr) go together: give both or neither"


def test_voices_lists_variants_with_gender(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["corpus", "voices"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "f3             female  female3" in lines
    assert "m1             male    male1" in lines
    assert len(lines) > 100
