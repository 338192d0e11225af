"""Build the Keras test fixtures for moodtape's ``.h5`` converter, with TensorFlow's reference outputs.

Runs only in the scratch environment that has TensorFlow (never in moodtape's own venv)::

    FER_VENV=/work/scratch/fer-venv bash ../shared/bench/fer-env.sh
    $FER_VENV/bin/pip install --no-deps tf-keras==2.21.0      # Keras 2.x, for the Keras 2 layout
    $FER_VENV/bin/python tools/keras_fixtures/make_fixtures.py tests/fixtures/keras

For each of two small architectures it writes a model saved by Keras 3 (legacy ``model.save("x.h5")``)
and one saved by Keras 2.x (tf-keras), each with seeded random weights, and ``<name>.npz`` holding
uint8 ``inputs``, the float ``scale``/``offset`` that turn them into the model's input, and
TensorFlow's ``outputs``:

* ``tutorial_*``: the shape of most tutorial ``fer.h5`` files, 48×48×1 → Conv2D, MaxPooling2D,
  Dropout, Flatten, Dense;
* ``layers_*``: a Functional model that exercises every other supported layer and option
  (separable/depthwise convolutions, strides 2 with "same" padding on even sizes, dilation,
  Add, Concatenate, global pooling, Reshape, Rescaling, BatchNormalization, the activations).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

SEED = 20261126


def tutorial_model(keras):  # type: ignore[no-untyped-def]
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(7, activation="softmax"),
        ],
        name="tutorial",
    )


def layers_model(keras, keras2: bool):  # type: ignore[no-untyped-def]
    kl = keras.layers
    slope = {"alpha": 0.1} if keras2 else {"negative_slope": 0.1}
    inp = keras.Input((32, 32, 3), name="image")
    x = kl.Rescaling(1 / 127.5, offset=-1.0)(inp)
    # Strides 2 with "same" on an even size pads 0 before and 1 after: asymmetric.
    a = kl.Conv2D(8, 3, strides=2, padding="same", activation="elu")(x)
    # An even kernel with "same" pads asymmetrically too; dilation 2.
    b = kl.Conv2D(8, 4, padding="same", dilation_rate=2, activation="selu", use_bias=False)(x)
    b = kl.MaxPooling2D(3, strides=2, padding="same")(b)
    c = kl.SeparableConv2D(8, 3, strides=2, padding="same", depth_multiplier=2, activation="tanh")(x)
    x = kl.Add()([a, b, c])
    x = kl.BatchNormalization()(x)
    x = kl.LeakyReLU(**slope)(x)
    d = kl.DepthwiseConv2D(3, padding="valid", depth_multiplier=2, activation="sigmoid")(x)  # 14×14×16
    d = kl.AveragePooling2D(2)(d)  # 7×7×16
    e = kl.Conv2D(16, 3, strides=2, padding="valid")(x)  # 7×7×16
    e = kl.ReLU(max_value=6.0)(e)
    f = kl.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)  # 8×8×8
    f = kl.MaxPooling2D(2, strides=1, padding="valid")(f)  # 7×7×8
    y = kl.Concatenate()([d, e, f])  # 7×7×40
    y = kl.Concatenate(axis=1)([y, y])  # 14×7×40: along height
    y = kl.AveragePooling2D(2, strides=2, padding="same")(y)  # 7×4×40, padding left out of the mean
    y = kl.SeparableConv2D(16, 3, padding="same", dilation_rate=2, activation="relu")(y)
    y = kl.BatchNormalization(center=False, epsilon=1e-5)(y)
    y = kl.Activation("relu")(y)
    g = kl.Concatenate()([kl.GlobalMaxPooling2D()(y), kl.GlobalAveragePooling2D()(y)])  # 32
    g = kl.Dense(32, activation="leaky_relu")(g)
    g = kl.BatchNormalization()(g)
    r = kl.Reshape((2, 2, 8))(g)
    r = kl.Conv2D(4, 1, activation="linear")(r)
    r = kl.Flatten()(r)
    r = kl.Dropout(0.5)(r)
    r = kl.Dense(12, activation="tanh")(r)
    r = kl.Reshape((3, -1))(r)
    r = kl.Flatten()(r)
    out = kl.Dense(7, activation="softmax", name="emotions")(r)
    return keras.Model(inp, out, name="layers")


def randomize(model, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    """Give biases and batch-norm statistics non-trivial values, so a converter that drops them fails."""
    for layer in model.layers:
        values = []
        for weight in layer.weights:
            name = weight.name.split("/")[-1].split(":")[0]
            shape = tuple(weight.shape)
            if name in {"bias", "beta", "moving_mean"}:
                values.append(rng.normal(0.0, 0.3, shape).astype("float32"))
            elif name == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            elif name == "moving_variance":
                values.append(rng.uniform(0.3, 2.0, shape).astype("float32"))
            else:
                values.append(np.asarray(weight.numpy()) * 2.0)
        if values:
            layer.set_weights(values)


def varied_images(rng: np.random.Generator, n: int, shape: tuple[int, int, int]) -> np.ndarray:
    """Smooth blobs, a gradient and noise at varied brightness and contrast: unlike plain noise,
    these images differ enough that a random network gives them different top labels."""
    height, width, channels = shape
    rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
    images = []
    for _ in range(n):
        coarse = rng.uniform(-1, 1, (4, 4, channels))
        blobs = np.kron(coarse, np.ones((height // 4 + 1, width // 4 + 1, 1)))[:height, :width]
        gradient = (rng.uniform(-1, 1) * rows + rng.uniform(-1, 1) * cols)[..., None]
        noise = rng.normal(0, 0.2, shape)
        image = rng.uniform(60, 200) + rng.uniform(20, 90) * (blobs + gradient + noise)
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return np.stack(images)


def spread_top_labels(keras, model, x: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Centre and stretch the last Dense layer's logits over these inputs, so the fixture's top labels
    vary (random networks tend to favour one class) and "same top label" is a real check."""
    last = model.layers[-1]
    features = np.asarray(keras.Model(model.inputs, last.input).predict(x, verbose=0), dtype=np.float64)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in last.get_weights())
    logits = features @ kernel + bias
    spread = logits.std(axis=0) + 1e-6
    kernel = kernel * 2.0 / spread
    bias = (bias - logits.mean(axis=0)) * 2.0 / spread
    last.set_weights([kernel.astype("float32"), bias.astype("float32")])


def save_fixture(
    keras, model, out: Path, name: str, n: int, scale: float, offset: float, rng: np.random.Generator
) -> None:  # type: ignore[no-untyped-def]
    shape = tuple(model.inputs[0].shape[1:])
    inputs = varied_images(rng, n, shape)
    x = inputs.astype("float32") * np.float32(scale) + np.float32(offset)
    spread_top_labels(keras, model, x)
    outputs = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
    model.save(out / f"{name}.h5")
    np.savez_compressed(out / f"{name}.npz", inputs=inputs, scale=scale, offset=offset, outputs=outputs)
    size = (out / f"{name}.h5").stat().st_size
    print(f"{name}: input {shape}, outputs {outputs.shape}, {size / 1024:.0f} KiB", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for the .h5 and .npz files (tests/fixtures/keras)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import keras
    import tf_keras

    for tag, module in (("k3", keras), ("k2", tf_keras)):
        module.utils.set_random_seed(SEED)
        rng = np.random.default_rng(SEED)
        tutorial = tutorial_model(module)
        randomize(tutorial, rng)
        save_fixture(module, tutorial, args.out, f"tutorial_{tag}", 16, 1 / 255, 0.0, rng)
        zoo = layers_model(module, keras2=tag == "k2")
        randomize(zoo, rng)
        save_fixture(module, zoo, args.out, f"layers_{tag}", 16, 1.0, 0.0, rng)


if __name__ == "__main__":
    main()
