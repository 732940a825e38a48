"""The vocoders plugin: its listing, configs that load and check the hop, and the vocoder objective on it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from speechgan.build import build_component
from speechgan.cli import main
from speechgan.config import load_config
from speechgan.errors import ConfigError
from speechgan.plugins import ENV_PLUGINS

from ..conftest import write_yaml

GENERATORS = {
    "hifigan": "HiFi-GAN generator, any upsampling and MRF layout (Kong et al. 2020)",
    "hifigan_v1": "HiFi-GAN V1 generator, 13.92M parameters (Kong et al. 2020)",
    "hifigan_v2": "HiFi-GAN V2 generator, 0.92M parameters (Kong et al. 2020)",
    "hifigan_v3": "HiFi-GAN V3 generator, 1.46M parameters (Kong et al. 2020)",
    "melgan": "MelGAN generator, 4.26M parameters (Kumar et al. 2019)",
}
DISCRIMINATORS = {
    "hifigan_mpd": "HiFi-GAN multi-period discriminator, periods 2/3/5/7/11 (Kong et al. 2020)",
    "hifigan_msd": "HiFi-GAN multi-scale discriminator, 3 scales (Kong et al. 2020)",
    "melgan_msd": "MelGAN multi-scale window-based discriminator, 3 scales (Kumar et al. 2019)",
    "univnet_mrd": "UnivNet multi-resolution spectrogram discriminator, 3 STFTs (Jang et al. 2021)",
}


@pytest.mark.parametrize(("kind", "listed"), [("generator", GENERATORS), ("discriminator", DISCRIMINATORS)])
def test_plugins_lists_the_models_with_their_papers(kind, listed, capsys, monkeypatch):
    monkeypatch.setenv(ENV_PLUGINS, "vocoders")
    assert main(["plugins", "--kind", kind]) == 0
    lines = capsys.readouterr().out.splitlines()
    width = max(map(len, listed))
    assert lines[0] == f"{kind}s:"
    assert [line.split("  [")[0] for line in lines[1:]] == [f"  {n:<{width}}  {d}" for n, d in listed.items()]
    assert all(line.endswith("]") and "  [vocoders (speechgan " in line for line in lines[1:])


def _vocoder_config(tmp_path, generator: dict) -> dict:
    return {
        "objective": {"name": "vocoder"},
        "features": {"name": "log_mel", "args": {"hop_length": 256, "n_fft": 1024, "win_length": 1024}},
        "generators": {"generator": generator},
        "discriminators": {"mpd": {"name": "hifigan_mpd"}, "msd": {"name": "hifigan_msd"},
                           "mrd": {"name": "univnet_mrd", "args": {"window": "hann"}}},
        # the corpus need not exist: configs are checked before any data is read
        "data": {"train": {"name": "audio_folder", "args": {"root": str(tmp_path / "corpus"), "segment_length": 8192}},
                 "batch_size": 4},
        "optim": {"generator": {"name": "adam", "lr": 2e-4}, "discriminator": {"name": "adam", "lr": 2e-4}},
        "trainer": {"max_steps": 2},
    }


def test_a_config_sets_the_layout_from_yaml_lists(tmp_path, registry):
    v3 = {"name": "hifigan", "args": {"upsample_initial_channel": 256, "upsample_rates": [8, 8, 4],
                                      "upsample_kernel_sizes": [16, 16, 8], "resblock": 2,
                                      "resblock_kernel_sizes": [3, 5, 7],
                                      "resblock_dilation_sizes": [[1, 2], [2, 6], [3, 12]]}}
    config = load_config(write_yaml(tmp_path / "v3.yaml", _vocoder_config(tmp_path, v3)), registry=registry)
    with torch.device("meta"):
        generator = build_component(registry, "generator", config.generators["generator"], path="generators.generator")
    assert generator.upsample_factor == 256
    assert sum(p.numel() for p in generator.parameters()) == 1_464_322  # hifigan_v3's, with weight norm
    assert set(config.discriminators) == {"mpd", "msd", "mrd"}


@pytest.mark.parametrize("name", ["hifigan_v1", "melgan"])
def test_a_hop_that_the_generator_does_not_upsample_by_is_a_config_error(name, tmp_path, registry):
    path = write_yaml(tmp_path / "bad.yaml", _vocoder_config(tmp_path, {"name": name}))
    with pytest.raises(ConfigError) as err:
        load_config(path, ["features.args.hop_length=300"], registry)
    assert (
        f"  generators.generator: generator {name!r} upsamples by 256 samples per frame but the front-end "
        "`features: log_mel` has hop_length 300; make the upsampling rates multiply to the hop size "
        "(or set the front-end's hop_length)"
    ) in str(err.value)


def test_the_vocoder_objective_trains_hifigan_v3_against_mpd_and_msd(registry):
    """One D and one G step's terms of HiFi-GAN (Kong et al. 2020): finite, with gradients for G's weights."""
    torch.manual_seed(0)
    features = build_component(registry, "feature", "log_mel", path="features")  # 22.05 kHz, hop 256, 80 bins
    objective = build_component(registry, "objective", "vocoder", path="objective", injected={"features": features})
    g = nn.ModuleDict({"generator": build_component(registry, "generator", "hifigan_v3", path="generators.generator")})
    d = nn.ModuleDict({name: build_component(registry, "discriminator", name, path=f"discriminators.{name}")
                       for name in ("hifigan_mpd", "hifigan_msd")})
    wave = 0.1 * torch.randn(1, 8 * 256)
    batch = {"wave": wave, "features": features(wave)}  # (1, 80, 8)
    state = objective.generate(batch, g=g, step=0)
    assert state["fake"].shape == state["real"].shape == (1, 1, 2048)
    d_terms = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    d.requires_grad_(False)  # G's step runs with D frozen, as in the trainer
    g_terms = objective.generator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    assert {"d/adv"} <= set(d_terms) and {"g/adv", "g/fm", "g/mel"} <= set(g_terms)
    assert torch.isfinite(d_terms["d/adv"]) and d_terms["d/adv"] > 0
    for name in ("g/adv", "g/fm", "g/mel"):
        assert torch.isfinite(g_terms[name]) and g_terms[name] > 0, name
    sum(objective.terms[k] * g_terms[k] for k in ("g/adv", "g/fm", "g/mel")).backward()
    grads = [p.grad for p in g.parameters()]
    assert all(grad is not None and torch.isfinite(grad).all() for grad in grads)
