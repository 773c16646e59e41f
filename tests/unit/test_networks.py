"""Layer specs: parsing, shapes and parameter counts, and the Keras models they build."""

import pytest

from classifier.ml import networks
from classifier.ml.messages import Refusal


def test_the_tutorial_mlp_is_exactly_the_seed_network():
    spec = networks.parse_spec("mlp")
    assert spec.text == "dense128" and not spec.is_convolutional
    rows = networks.describe(spec, (28, 28), 8)
    assert [row[0] for row in rows] == ["rescale 1/255", "flatten", "dense128", "softmax 8"]
    assert networks.count_params(spec, (28, 28), 8) == 784 * 128 + 128 + 128 * 8 + 8


@pytest.mark.parametrize(
    ("text", "shape", "classes"),
    [
        ("mlp", (28, 28), 8),
        ("cnn", (28, 28), 8),
        ("cnn-large", (64, 64), 30),
        ("cnn-large", (28, 28), 2350),  # the whole of KS X 1001, as PHD08 has it
        ("conv8x5-bn-pool-dropout0.5-dense16-bn", (20, 24), 3),
        ("pool-dense8", (28, 28), 2),
    ],
)
def test_counted_parameters_match_the_built_keras_model(text, shape, classes):
    spec = networks.parse_spec(text)
    model = networks.build_model(spec, shape, classes, seed=0)
    assert model.count_params() == networks.count_params(spec, shape, classes)
    assert tuple(model.output_shape) == (None, classes)


def test_same_seed_builds_the_same_weights():
    spec = networks.parse_spec("conv4-pool-dense8")
    first = networks.build_model(spec, (16, 16), 3, seed=7).get_weights()
    second = networks.build_model(spec, (16, 16), 3, seed=7).get_weights()
    other = networks.build_model(spec, (16, 16), 3, seed=8).get_weights()
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert not all((a == b).all() for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv32-banana", 'Unknown layer "banana"'),
        ("conv32--dense8", 'Unknown layer "(empty)"'),
        ("", "at least one layer"),
        ("dense99999999", "1 to 1024 units"),
        ("conv0", "1 to 512 filters"),
        ("conv8x11", "kernel of 1 to 9"),
        ("dropout1.5", "between 0 and 1"),
        ("dense64-conv8", "after a dense layer"),
        ("-".join(["bn"] * 21), "at most 20"),
        ("pool-pool-pool-pool-pool", "Too many pool layers for 28x28"),
        ("conv64-dense1024", "51,390,088 parameters is too many for this lab"),
        # Few weights, but 13 billion multiply-adds for each 28x28 image.
        ("-".join(["conv512"] * 6), "multiply-adds per image is too slow to train"),
    ],
)
def test_malformed_or_absurd_specs_are_explained(text, message):
    with pytest.raises(Refusal, match=message.replace("(", r"\(").replace(")", r"\)")):
        networks.count_params(networks.parse_spec(text), (28, 28), 8)


def test_specs_are_case_and_space_tolerant_and_canonical():
    assert networks.parse_spec("  Conv32x3-POOL-Dropout.25-Dense64 ").text == (
        "conv32-pool-dropout0.25-dense64"
    )
