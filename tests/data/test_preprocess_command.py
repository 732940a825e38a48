"""``speechgan preprocess``: fills the feature cache of a recipe's datasets."""

import numpy as np
import soundfile as sf
import yaml

from speechgan.cli import main


def recipe(tmp_path, cache=True):
    root = tmp_path / "corpus" / "spk1"
    root.mkdir(parents=True)
    t = np.arange(8000) / 16000
    for i in range(3):
        sf.write(root / f"u{i}.wav", 0.5 * np.sin(2 * np.pi * (200 + 50 * i) * t), 16000)
    train = {"name": "audio_folder", "args": {"root": str(tmp_path / "corpus"), "sample_rate": 16000}}
    if cache:
        train["args"]["cache_dir"] = str(tmp_path / "cache")
    config = {
        "objective": {"name": "vocoder"},
        "generators": {"generator": {"name": "mlp"}},
        "discriminators": {"discriminator": {"name": "mlp"}},
        "features": {"name": "log_mel", "args": {"sample_rate": 16000, "n_fft": 512, "hop_length": 128,
                                                 "win_length": 512, "n_mels": 40}},
        "data": {"train": train},
        "optim": {"generator": {"lr": 1e-3}, "discriminator": {"lr": 1e-3}},
        "trainer": {"max_steps": 1},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_preprocess_fills_then_reuses_the_cache(tmp_path, capsys):
    path = recipe(tmp_path)
    assert main(["preprocess", str(path), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("data.train: 3 files (3 computed, 0 reused), 1.5 s of audio in ")
    [folder] = (tmp_path / "cache").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "spk1%2Fu0.npy", "spk1%2Fu1.npy", "spk1%2Fu2.npy"]
    assert str(folder) in out
    assert main(["preprocess", str(path)]) == 0
    assert "(0 computed, 3 reused)" in capsys.readouterr().out
    # a changed hop size is another fingerprint: computed again, beside the old one
    assert main(["preprocess", str(path), "features.args.hop_length=64"]) == 0
    assert "(3 computed, 0 reused)" in capsys.readouterr().out
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_preprocess_needs_a_cache_dir(tmp_path, capsys):
    path = recipe(tmp_path, cache=False)
    assert main(["preprocess", str(path)]) == 2
    assert f"{path}: no dataset sets args.cache_dir (e.g. data.train.args.cache_dir=cache/)" in capsys.readouterr().err
