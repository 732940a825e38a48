"""The voice_conversion plugin: its hookimpls load in strict mode and list every model with its paper."""

from __future__ import annotations

import torch

import speechgan_plugins.voice_conversion as vc
from speechgan.build import build_component
from speechgan.plugins import get_plugin_manager

GENERATORS = {
    "cyclegan_vc": "CycleGAN-VC 1-D gated CNN generator, 24 mel-cepstra, 38.06M parameters (Kaneko & Kameoka 2018)",
    "cyclegan_vc2": "CycleGAN-VC2 2-1-2D generator, 36 mel-cepstra, 32.90M parameters (Kaneko et al. 2019)",
    "maskcyclegan_vc": "MaskCycleGAN-VC 2-1-2D generator, 80 mels + mask, 34.37M parameters (Kaneko et al. 2021)",
    "stargan_vc": (
        "StarGAN-VC conditional generator, 36 mel-cepstra, 4 speakers, 1.93M parameters (Kameoka et al. 2018)"
    ),
}
DISCRIMINATORS = {
    "cyclegan_vc_d": "CycleGAN-VC 2-D gated CNN discriminator, 21.84M parameters (Kaneko & Kameoka 2018)",
    "cyclegan_vc2_d": "CycleGAN-VC2 2-D PatchGAN discriminator, 22.89M parameters (Kaneko et al. 2019)",
    "maskcyclegan_vc_d": (
        "MaskCycleGAN-VC 2-D PatchGAN discriminator on 80 mels, 22.89M parameters (Kaneko et al. 2021)"
    ),
    "stargan_vc_d": "StarGAN-VC speaker-conditional discriminator, 4 speakers, 0.17M parameters (Kameoka et al. 2018)",
    "stargan_vc_classifier": "StarGAN-VC domain classifier, 4 speakers, 0.03M parameters (Kameoka et al. 2018)",
}


def _registry():
    """A fresh, strict manager with only this plugin: the entry point is not installed yet, so it is registered here."""
    pm = get_plugin_manager(strict=True, entry_points=False, plugins=[("voice_conversion", vc)])
    assert not pm.failures
    return pm.registry


def test_the_hookimpls_register_every_model_with_its_paper() -> None:
    registry = _registry()
    assert registry.names("generator") == sorted(GENERATORS)
    assert registry.names("discriminator") == sorted(DISCRIMINATORS)
    for kind, listed in (("generator", GENERATORS), ("discriminator", DISCRIMINATORS)):
        for name, description in listed.items():
            component = registry.get(kind, name)
            assert component.description == description
            assert component.plugin == "voice_conversion"


def test_the_descriptions_round_the_exact_counts() -> None:
    """The millions in each description are the module's own count, to two decimals."""
    registry = _registry()
    for kind, listed in (("generator", GENERATORS), ("discriminator", DISCRIMINATORS)):
        for name, description in listed.items():
            with torch.device("meta"):
                module = registry.build(kind, name)
            count = sum(p.numel() for p in module.parameters())
            assert f"{count / 1e6:.2f}M parameters" in description, name


def test_a_config_sets_the_keyword_arguments() -> None:
    registry = _registry()
    with torch.device("meta"):
        g = build_component(registry, "generator", {"name": "cyclegan_vc2", "args": {"n_features": 35}},
                            path="generators.a2b")
        d = build_component(registry, "discriminator", {"name": "stargan_vc_d", "args": {"n_speakers": 10}},
                            path="discriminators.d")
    assert g.n_features == 35 and g.frame_multiple == 4
    assert d.n_speakers == 10 and d.layers[0].conv.in_channels == 1 + 10
