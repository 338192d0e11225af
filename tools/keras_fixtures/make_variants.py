"""More Keras models for a wider parity check than the committed fixtures: written to a scratch folder.

Each variant exercises a combination the fixtures do not: the classic ``input_shape=`` Sequential
of tf-keras, Dense on an image, ``keepdims`` global pooling, softmax over an image's channels,
Add and Concatenate across layouts, a shared layer, per-channel Rescaling, odd sizes with strides 2.
Runs in the scratch environment with TensorFlow (and tf-keras)::

    $FER_VENV/bin/python tools/keras_fixtures/make_variants.py /work/scratch/keras-variants
    .venv/bin/python tools/keras_fixtures/parity.py --variants /work/scratch/keras-variants
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from make_fixtures import randomize, spread_top_labels, varied_images  # type: ignore[import-not-found]


def variants(keras):  # type: ignore[no-untyped-def]
    kl = keras.layers
    yield (
        "seq_input_shape",
        keras.Sequential(
            [
                kl.Conv2D(8, 3, input_shape=(48, 48, 1), activation="relu", padding="same"),
                kl.BatchNormalization(),
                kl.MaxPooling2D(),
                kl.Conv2D(8, 5, strides=2, activation="relu"),
                kl.Flatten(),
                kl.Dense(7, activation="softmax"),
            ]
        ),
    )
    inp = keras.Input((9, 9, 3))
    x = kl.Dense(5, activation="relu")(inp)  # Dense on an image: along channels
    x = kl.Conv2D(6, 3, strides=2, padding="same")(x)  # odd size, strides 2
    x = kl.GlobalAveragePooling2D(keepdims=True)(x)
    x = kl.Conv2D(7, 1)(x)
    x = kl.Flatten()(x)
    yield "dense_on_image_keepdims", keras.Model(inp, kl.Activation("softmax")(x))

    inp = keras.Input((15, 15, 1))
    x = kl.Rescaling(2.0, offset=-1.0)(inp)
    a = kl.Conv2D(4, 3, padding="same", activation="softmax")(x)  # softmax over the channels of an image
    b = kl.Reshape((15, 15, 4))(kl.Dense(15 * 15 * 4)(kl.Flatten()(x)))  # an image in NHWC layout
    c = kl.Add()([a, b])  # NCHW + NHWC
    d = kl.Concatenate(axis=2)([b, a])  # along width, NHWC first
    e = kl.Concatenate(axis=1)([a, c])  # along height, NCHW first
    shared = kl.Conv2D(3, 3, strides=2, padding="same", activation="selu")
    f = kl.Concatenate()([kl.GlobalMaxPooling2D()(shared(d)), kl.GlobalMaxPooling2D()(shared(e))])
    g = kl.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=3)(c)  # 15 → 8
    g = kl.ReLU(max_value=6.0, negative_slope=0.1)(g)
    g = kl.BatchNormalization(scale=False)(g)
    g = kl.GlobalAveragePooling2D()(g)
    out = kl.Dense(7, activation="softmax")(kl.Concatenate()([f, g]))
    yield "layouts_shared", keras.Model(inp, out)

    inp = keras.Input((20, 20, 3))
    x = kl.Rescaling([1.0, 2.0, 3.0], offset=[0.1, 0.0, -0.1])(inp)
    x = kl.SeparableConv2D(8, 5, strides=2, padding="same", depth_multiplier=1, use_bias=False)(x)
    x = kl.AveragePooling2D(3, strides=2, padding="same")(x)
    x = kl.MaxPooling2D(3, strides=1, padding="same")(x)
    x = kl.LeakyReLU()(x)
    x = kl.Reshape((-1,))(x)
    yield "pooling_same", keras.Model(inp, kl.Dense(7, activation="sigmoid")(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import keras
    import tf_keras

    for tag, module in (("k3", keras), ("k2", tf_keras)):
        module.utils.set_random_seed(1)
        rng = np.random.default_rng(1)
        for name, model in variants(module):
            randomize(model, rng)
            shape = tuple(model.inputs[0].shape[1:])
            inputs = varied_images(rng, 8, shape)
            x = inputs.astype("float32") / 255.0
            if model.layers[-1].__class__.__name__ == "Dense":
                spread_top_labels(module, model, x)
            outputs = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
            model.save(args.out / f"{name}_{tag}.h5")
            np.savez(args.out / f"{name}_{tag}.npz", inputs=inputs, scale=1 / 255, offset=0.0, outputs=outputs)
            print(f"{name}_{tag}: {shape} → {outputs.shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
