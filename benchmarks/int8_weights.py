"""The bundled int8 model on this CPU: int8 weights as shipped, as uint8, and its own arithmetic.

    python -m benchmarks.int8_weights ../shared/datasets/fer2013/publictest --json docs/benchmark-int8-weights.json

Reads every face of the split three ways and times the two int8 sessions on 1 and 3 faces:

- ``as_written``: ONNX Runtime's basic optimisations only, so each weight is dequantized to float
  and no int8 kernel runs: the numbers the model holds, the same on every CPU (slow);
- ``int8_weights``: the model as shipped, uint8 activations × int8 weights (ORT's U8S8 kernels);
- ``uint8_weights``: the same values stored as uint8 (``vision/int8_weights.py``), ORT's U8U8 kernels.

``agreement`` is the share of faces whose label matches ``as_written``; ``max_logit_change`` the
largest difference of a logit from it. Where U8S8 products saturate (x86 without VNNI) the shipped
weights stray from the model's arithmetic; the uint8 ones do not, on any CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from moodtape.training.datasets import load_dataset
from moodtape.training.inputs import network_input
from moodtape.vision import models
from moodtape.vision.int8_weights import u8s8_saturates, with_uint8_weights


def session(model_bytes: bytes, level: ort.GraphOptimizationLevel, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = level
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def logits(reader: ort.InferenceSession, faces: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    name = reader.get_inputs()[0].name
    chunks = [reader.run(["logits"], {name: faces[i : i + 256]})[0] for i in range(0, len(faces), 256)]
    return np.concatenate(chunks)


def milliseconds(
    readers: dict[str, ort.InferenceSession], faces: npt.NDArray[np.float32], rounds: int = 7
) -> dict[str, float]:
    """Best-of-``rounds`` mean time of one call (every output, as the classifier asks), interleaved."""
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(rounds):
        for key, reader in readers.items():
            feed = {reader.get_inputs()[0].name: faces}
            reader.run(None, feed)
            started = time.perf_counter()
            for _ in range(40):
                reader.run(None, feed)
            best[key] = min(best[key], (time.perf_counter() - started) / 40 * 1000)
    return {key: round(value, 3) for key, value in best.items()}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces", type=Path, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    dataset = load_dataset(args.faces)
    faces, labels = network_input(dataset.images), np.asarray(dataset.labels)
    shipped = models.bundled_model_bytes()
    level = ort.GraphOptimizationLevel
    readers = {
        "as_written": session(shipped, level.ORT_ENABLE_BASIC, args.threads),
        "int8_weights": session(shipped, level.ORT_ENABLE_ALL, args.threads),
        "uint8_weights": session(with_uint8_weights(shipped), level.ORT_ENABLE_ALL, args.threads),
    }
    answers = {key: logits(reader, faces) for key, reader in readers.items()}
    reference = answers["as_written"]
    results: dict[str, Any] = {
        "cpu": cpu_name(),
        "u8s8_saturates": u8s8_saturates(),
        "onnxruntime": ort.__version__,
        "n_faces": len(labels),
        "reads": {
            key: {
                "accuracy": round(float((found.argmax(1) == labels).mean()), 4),
                "agreement": round(float((found.argmax(1) == reference.argmax(1)).mean()), 4),
                "max_logit_change": round(float(np.abs(found - reference).max()), 4),
            }
            for key, found in answers.items()
        },
        "ms_per_call": {
            f"{n} face{'s' if n > 1 else ''}": milliseconds(
                {key: readers[key] for key in ("int8_weights", "uint8_weights")}, faces[:n]
            )
            for n in (1, 3)
        },
    }
    text = json.dumps(results, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
