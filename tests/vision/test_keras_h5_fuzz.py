"""Fuzzing the Keras .h5 loader: mutated model files convert, or give a ModelError; never a crash or hang.

The seeds are the small Keras 2 and 3 models in ``tests/fixtures/keras``. Mutations hit the whole
file: the HDF5 structures (superblock, object headers, B-trees), the JSON model config and the weights.
Files are read in a child process (``moodtape.vision.child``); a mutation that makes HDF5 hang is
cut after :data:`READ_SECONDS` (below Hypothesis's 10 s deadline) and must give a ``ModelError`` too.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodtape.errors import ModelError
from moodtape.vision.keras_h5 import convert_h5

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"
SEEDS = sorted(FIXTURES.glob("*_k[23].h5"))
#: The child's time limit here; a normal conversion of these seeds takes tens of milliseconds.
READ_SECONDS = 5.0


@pytest.fixture(scope="module", autouse=True)
def _child_started() -> None:
    """Start the reading child before the timed examples (its first start imports h5py and onnx)."""
    convert_h5(SEEDS[0], seconds=60)


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
        model = convert_h5(path, seconds=READ_SECONDS)
    except ModelError as error:
        assert str(error) and "\n" not in str(error).strip()
        return
    assert len(model.graph.output) == 1


def test_a_file_that_makes_hdf5_hang_is_a_model_error_in_bounded_time(tmp_path: Path) -> None:
    """Found by this fuzzing: 64 zero bytes at offset 2120 of tutorial_k3.h5 make h5py/HDF5 loop forever.

    Before, the conversion never returned (in-process: no answer after 40 s); now the child is killed.
    """
    data = bytearray((FIXTURES / "tutorial_k3.h5").read_bytes())
    data[2120:2184] = bytes(64)
    path = tmp_path / "hangs.h5"
    path.write_bytes(bytes(data))
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"could not read hangs\.h5 within 2 s: is it a Keras \.h5 model\?"):
        convert_h5(path, seconds=2.0)
    assert time.monotonic() - started < 15
