"""Fuzzing the Keras .h5 loader: mutated model files convert, or give a ModelError; never a crash or hang.

The seeds are the small Keras 2 and 3 models in ``tests/fixtures/keras``. Mutations hit the whole
file: the HDF5 structures (superblock, object headers, B-trees), the JSON model config and the weights.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodtape.errors import ModelError
from moodtape.vision.keras_h5 import convert_h5

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"
SEEDS = sorted(FIXTURES.glob("*_k[23].h5"))


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        # Half the mutations in the first 4 KiB, where HDF5 keeps its superblock and root group.
        end = 4096 if draw(st.booleans()) else len(data)
        position = draw(st.integers(0, end - 1))
        action = draw(st.sampled_from(["replace", "zero", "truncate"]))
        if action == "replace":
            data[position : position + 4] = draw(st.binary(min_size=4, max_size=4))
        elif action == "zero":
            data[position : position + 64] = bytes(len(data[position : position + 64]))
        elif position > 8:
            del data[position:]
    return bytes(data)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
@given(data=st.data())
def test_mutated_keras_files_convert_or_give_a_model_error(
    tmp_path_factory: pytest.TempPathFactory, seed: Path, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("h5") / "model.h5"
    path.write_bytes(data.draw(mutated(seed.read_bytes())))
    try:
        model = convert_h5(path)
    except ModelError as error:
        assert str(error) and "\n" not in str(error).strip()
        return
    assert len(model.graph.output) == 1
