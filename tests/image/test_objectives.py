"""The cgan, acgan and image_to_label objectives: terms, values and the metric contracts."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan_plugins.image.datasets import MultiLabelDigits, digits_split
from speechgan_plugins.image.objectives import binary_cross_entropy

WEIGHTS = {"d/adv": 1.0, "d/r1": 0.0, "g/adv": 1.0, "d/cls": 1.0, "g/cls": 1.0, "g/sup": 1.0}


@pytest.fixture(scope="module")
def digits_batch():
    images, labels = digits_split("test")
    return {"x": images[:16], "label": labels[:16]}


def modules(build, conditioning, num_classes=10):
    g = nn.ModuleDict({"generator": build("generator", "dcgan", image_size=8, latent_dim=12, base_channels=8, num_classes=num_classes)})
    d = nn.ModuleDict({"discriminator": build(
        "discriminator", "dcgan", image_size=8, base_channels=8, conditioning=conditioning, num_classes=num_classes
    )})
    return g, d


class LabelRecorder(nn.Module):
    """A generator that records the labels it is asked for and paints them into the image."""

    latent_dim, num_classes = 3, 10

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[torch.Tensor] = []

    def forward(self, z, labels):
        self.calls.append(labels)
        return (labels.float() / 9 * 2 - 1)[:, None, None, None].expand(-1, 1, 8, 8)


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_cgan_terms_and_values(build, digits_batch, conditioning):
    objective = build("objective", "cgan", num_classes=10)
    g, d = modules(build, conditioning)
    state = objective.generate(digits_batch, g=g, step=0)
    assert state["fake"].shape == (16, 1, 8, 8) and state["labels"].shape == (16,)
    assert 0 <= state["labels"].min() and state["labels"].max() < 10
    d_terms = objective.discriminator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    assert set(d_terms) == {"d/adv", "stats/d_real", "stats/d_fake"}
    # non-saturating: D's loss is softplus(-D(x, y)) + softplus(D(G(z, y'), y')), G's softplus(-D(G(z, y'), y'))
    real = d["discriminator"](digits_batch["x"], digits_batch["label"])
    fake = d["discriminator"](state["fake"].detach(), state["labels"])
    torch.testing.assert_close(d_terms["d/adv"], F.softplus(-real).mean() + F.softplus(fake).mean())
    g_terms = objective.generator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    assert set(g_terms) == {"g/adv"}
    torch.testing.assert_close(g_terms["g/adv"], F.softplus(-fake).mean())
    g_terms["g/adv"].backward()
    assert g["generator"].label.weight.grad.abs().sum() > 0  # the label reaches G's loss


def test_cgan_r1_term(build, digits_batch):
    objective = build("objective", "cgan", num_classes=10)
    g, d = modules(build, "projection")
    state = objective.generate(digits_batch, g=g, step=0)
    terms = objective.discriminator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS | {"d/r1": 5.0})
    assert terms["d/r1"].item() > 0 and terms["d/r1"].requires_grad


def test_sample_conditional_and_balanced_sample(build):
    objective = build("objective", "cgan", num_classes=10)
    g, _ = modules(build, "projection")
    labels = torch.tensor([7, 7, 0, 3])
    images = objective.sample_conditional(g=g, labels=labels, device=torch.device("cpu"))
    assert images.shape == (4, 1, 8, 8) and images.abs().max() <= 1.0
    assert objective.num_classes == 10
    recorder = LabelRecorder()
    out = objective.sample(g=nn.ModuleDict({"generator": recorder}), n=25, device=torch.device("cpu"))
    assert torch.equal(recorder.calls[-1], torch.arange(25) % 10)
    assert out.shape == (25, 1, 8, 8)
    samples = objective.samples(g=g, batch={"x": images, "label": labels}, step=1)
    assert samples["fake"].images.shape == (80, 1, 8, 8) and samples["fake"].normalize


def test_acgan_terms_and_values(build, digits_batch):
    objective = build("objective", "acgan", num_classes=10)
    g, d = modules(build, "auxiliary")
    assert objective.num_classes == 10
    state = objective.generate(digits_batch, g=g, step=0)
    d_terms = objective.discriminator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    assert {"d/adv", "d/cls"} <= set(d_terms) and "stats/d_real_class_accuracy" in d_terms
    real_logit, real_cls = d["discriminator"](digits_batch["x"])
    fake_logit, fake_cls = d["discriminator"](state["fake"].detach())
    # -L_C for D: cross-entropy of the true class on real images plus the drawn class on fakes
    expected = F.cross_entropy(real_cls, digits_batch["label"]) + F.cross_entropy(fake_cls, state["labels"])
    torch.testing.assert_close(d_terms["d/cls"], expected)
    torch.testing.assert_close(d_terms["d/adv"], F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean())
    g_terms = objective.generator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    assert {"g/adv", "g/cls"} <= set(g_terms)
    torch.testing.assert_close(g_terms["g/cls"], F.cross_entropy(fake_cls, state["labels"]))
    torch.testing.assert_close(g_terms["g/adv"], F.softplus(-fake_logit).mean())
    images = objective.sample_conditional(g=g, labels=torch.tensor([1, 2]), device=torch.device("cpu"))
    assert images.shape == (2, 1, 8, 8)


def test_mismatched_parts_are_config_errors(build, digits_batch):
    objective = build("objective", "cgan", num_classes=10)
    g, d = modules(build, "projection", num_classes=5)
    with pytest.raises(ConfigError, match=r"generator DCGANGenerator has num_classes=5 but objective 'cgan' has num_classes=10"):
        objective.generate(digits_batch, g=g, step=0)
    acgan = build("objective", "acgan", num_classes=10)
    g, d = modules(build, "projection")
    state = acgan.generate(digits_batch, g=g, step=0)
    with pytest.raises(ConfigError, match="acgan's discriminator has conditioning: auxiliary"):
        acgan.discriminator_terms(digits_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    plain = nn.ModuleDict({"discriminator": build("discriminator", "dcgan", image_size=8, base_channels=8)})
    with pytest.raises(ConfigError, match="needs a discriminator returning \\(logit, class_logits\\) over 10 classes"):
        acgan.discriminator_terms(digits_batch, state, g=g, d=plain, step=0, weights=WEIGHTS)


@pytest.fixture(scope="module")
def multilabel_batch():
    ds = MultiLabelDigits(split="test", num_samples=12, seed=0)
    return {"x": ds.images, "label": ds.labels}


def image_to_label_modules(build):
    g = nn.ModuleDict({"generator": build("generator", "dcgan_classifier", image_size=8, base_channels=8, num_labels=10)})
    d = nn.ModuleDict({"discriminator": build(
        "discriminator", "dcgan", image_size=8, base_channels=8, conditioning="projection", num_classes=10
    )})
    return g, d


def test_image_to_label_terms_and_predict(build, multilabel_batch):
    objective = build("objective", "image_to_label", num_labels=10)
    g, d = image_to_label_modules(build)
    images, vectors = multilabel_batch["x"], multilabel_batch["label"]
    probs = objective.predict(g=g, images=images)
    assert objective.num_labels == 10
    assert probs.shape == (12, 10) and ((probs > 0) & (probs < 1)).all()
    state = objective.generate(multilabel_batch, g=g, step=0)
    d_terms = objective.discriminator_terms(multilabel_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    real = d["discriminator"](images, vectors)
    fake = d["discriminator"](images, state["probs"].detach())
    torch.testing.assert_close(d_terms["d/adv"], F.softplus(-real).mean() + F.softplus(fake).mean())
    g_terms = objective.generator_terms(multilabel_batch, state, g=g, d=d, step=0, weights=WEIGHTS)
    torch.testing.assert_close(g_terms["g/sup"], F.binary_cross_entropy(state["probs"], vectors))
    torch.testing.assert_close(g_terms["g/adv"], F.softplus(-d["discriminator"](images, state["probs"])).mean())
    assert 0.0 <= g_terms["stats/exact_match"].item() <= 1.0


def test_image_to_label_without_the_adversarial_term(build, multilabel_batch):
    objective = build("objective", "image_to_label", num_labels=10)
    g, d = image_to_label_modules(build)
    state = objective.generate(multilabel_batch, g=g, step=0)
    terms = objective.generator_terms(multilabel_batch, state, g=g, d=d, step=0, weights=WEIGHTS | {"g/adv": 0.0})
    assert set(terms) == {"g/sup", "stats/exact_match"}


def test_image_to_label_needs_label_vectors(build, digits_batch):
    objective = build("objective", "image_to_label", num_labels=10)
    g, _ = image_to_label_modules(build)
    with pytest.raises(DataError, match=r"expects label vectors \(B, 10\) \(num_labels\), got labels of shape \(16,\)"):
        objective.generate(digits_batch, g=g, step=0)


def test_supervised_loss_stays_finite_where_the_sigmoid_saturates():
    logits = torch.tensor([[-40.0, 40.0, 2.0, -1.0]], requires_grad=True)
    targets = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    probs = torch.sigmoid(logits)  # exactly 0.0 and 1.0 in float32 for +-40
    assert probs[0, 0] < 1e-17 and probs[0, 1] == 1.0
    loss = binary_cross_entropy(probs, targets)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    mild = torch.tensor([[0.2, 0.9], [0.6, 0.01]])
    torch.testing.assert_close(binary_cross_entropy(mild, targets[:, 2:].repeat(2, 1)),
                               F.binary_cross_entropy(mild, targets[:, 2:].repeat(2, 1)))
