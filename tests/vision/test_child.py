"""Risky work in a child process: results and exceptions come back, hangs and crashes become errors."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

import pytest

from moodtape.errors import ModelError
from moodtape.vision import keras_h5
from moodtape.vision.child import ChildCrashedError, ChildTimeoutError, run_bounded

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"


def _hang(path: str) -> None:
    """Stands in for an HDF5 read that never returns (imported by name in the child)."""
    time.sleep(600)


def _crash(path: str) -> None:
    """Stands in for a reader that crashes in C code."""
    os.abort()


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    assert run_bounded(os.getpid, seconds=60) != os.getpid()
    assert run_bounded(divmod, 17, 5, seconds=60) == (3, 2)


def test_an_exception_in_the_child_is_raised_here() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        run_bounded(int, "not a number", seconds=60)


def test_a_hang_is_cut_at_the_limit_and_the_next_call_works() -> None:
    run_bounded(os.getpid, seconds=60)  # the child is started: the limit below is the work's alone
    started = time.monotonic()
    with pytest.raises(ChildTimeoutError):
        run_bounded(time.sleep, 600, seconds=1.0)
    assert time.monotonic() - started < 10  # 1 s, plus killing; generous for a loaded machine
    assert run_bounded(divmod, 7, 2, seconds=60) == (3, 1)


@pytest.mark.parametrize(("crash", "signal_name"), [(os.abort, "SIGABRT"), (ctypes.string_at, "SIGSEGV")])
def test_a_crash_is_an_error_here_not_a_crash(crash: object, signal_name: str) -> None:
    args = () if crash is os.abort else (0,)  # string_at(0) reads address 0: a segmentation fault
    with pytest.raises(ChildCrashedError, match=signal_name):
        run_bounded(crash, *args, seconds=60)  # type: ignore[arg-type]
    assert run_bounded(divmod, 9, 4, seconds=60) == (2, 1)


def test_a_keras_file_that_hangs_the_reader_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected: the child runs a reader that never returns (a real HDF5 hang is rare, see the fuzz tests)."""
    monkeypatch.setattr(keras_h5, "_convert_here", _hang)
    with pytest.raises(ModelError, match=r"could not read tutorial_k2\.h5 within 1 s: is it a Keras \.h5 model\?"):
        keras_h5.convert_h5(FIXTURES / "tutorial_k2.h5", seconds=1.0)


def test_a_keras_reader_that_crashes_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keras_h5, "_convert_here", _crash)
    with pytest.raises(ModelError, match=r"the HDF5 reader crashed \(killed by SIGABRT\)"):
        keras_h5.convert_h5(FIXTURES / "tutorial_k2.h5")


def test_a_normal_conversion_is_quick_once_the_child_runs() -> None:
    keras_h5.convert_h5(FIXTURES / "tutorial_k2.h5")  # starts the child (imports h5py and onnx once)
    conversion = keras_h5.convert_h5_file(FIXTURES / "tutorial_k3.h5")
    assert conversion.layers > 1 and conversion.seconds < 10
