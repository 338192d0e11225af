"""``moodtape.analyze`` on a file or stream larger than any picture: refused once past the bound.

``/dev/zero``, a video given by mistake or ``- < /dev/zero`` were read without end (until memory ran
out); reading now stops at :func:`~moodtape.vision.image_sources.max_file_bytes`. Each test uses a pixel
limit of 1, so the bound is 64 MiB and a sparse file just over it costs no disk.
"""

from __future__ import annotations

import io
import os
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from moodtape.errors import ImageTooLargeError, UnsupportedImageError
from moodtape.vision.image_sources import max_file_bytes
from moodtape.vision.images import load_image

LIMIT = max_file_bytes(1)


class EndlessZeros:
    """A stream of zero bytes that never ends, as ``/dev/zero`` opened in Python."""

    def __init__(self) -> None:
        self.handed_out = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:  # "all of it": what a reader that did not bound itself asked for
            size = LIMIT + 1
        self.handed_out += size
        return bytes(size)


def test_a_sparse_file_past_the_bound_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "film.jpg"
    with path.open("wb") as file:
        file.truncate(LIMIT + 1)
    with pytest.raises(ImageTooLargeError, match=r"film\.jpg: over 67 MB.*is it a picture"):
        load_image(path, max_pixels=1)


def test_an_endless_stream_is_read_only_to_the_bound() -> None:
    stream = EndlessZeros()
    with pytest.raises(ImageTooLargeError, match="is it a picture"):
        load_image(stream, max_pixels=1)
    assert stream.handed_out == LIMIT + 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_past_the_bound_is_too_large(tmp_path: Path) -> None:
    """A FIFO (or a shell's ``<(…)``) says no size, so it is read a chunk at a time up to the bound."""
    fifo = tmp_path / "camera"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with fifo.open("wb") as pipe:
                for _ in range(LIMIT // (1 << 20) + 1):
                    pipe.write(bytes(1 << 20))
        except BrokenPipeError:  # the reader stopped at the bound, as it should
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        with pytest.raises(ImageTooLargeError, match=r"camera: over 67 MB"):
            load_image(fifo, max_pixels=1)
    finally:
        writer.join(timeout=60)


def test_a_picture_read_in_chunks_is_whole(astronaut_jpeg_bytes: bytes) -> None:
    """Chunked reading gives the same pixels as the bytes themselves, for a stream and a path."""
    expected = load_image(astronaut_jpeg_bytes)
    assert (load_image(io.BytesIO(astronaut_jpeg_bytes)) == expected).all()


class FiniteZeros:
    """``total`` zero bytes (no picture), handed out in whatever sizes are asked for."""

    def __init__(self, total: int) -> None:
        self.left = total

    def read(self, size: int = -1, /) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def test_a_stream_is_held_once_while_read() -> None:
    """Chunks joined at the end held every byte twice: 300 MiB read peaked at 600 MiB."""
    size = 32 << 20
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedImageError):
            load_image(FiniteZeros(size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * size


class SizeFree:
    """A file-like wrapper whose ``read`` takes no size, as some hand-written ones do."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        data, self.data = self.data, b""
        return data


def test_a_read_that_takes_no_size_is_read_whole(astronaut_jpeg_bytes: bytes) -> None:
    """``read()`` with no size argument was a bare ``TypeError``; it is read whole, then measured."""
    expected = load_image(astronaut_jpeg_bytes)
    assert (load_image(SizeFree(astronaut_jpeg_bytes)) == expected).all()


def test_a_read_that_takes_no_size_is_still_bounded() -> None:
    with pytest.raises(ImageTooLargeError, match="is it a picture"):
        load_image(SizeFree(bytes(LIMIT + 1)), max_pixels=1)


def test_a_file_that_says_size_0_is_read_only_to_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """procfs and FUSE files say size 0 (and a file still being written says less than it will
    hold): the size said let such a file be read whole, however large; the reading itself stops now."""
    path = tmp_path / "camera.jpg"
    with path.open("wb") as file:
        file.truncate(LIMIT + 1)
    inode = path.stat().st_ino

    def says_size_0(real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def measured(*args: object, **kwargs: object) -> os.stat_result:
            result = real(*args, **kwargs)
            if result.st_ino != inode:
                return result
            fields = list(result)
            fields[6] = 0  # st_size
            return os.stat_result(fields)

        return measured

    monkeypatch.setattr(os, "stat", says_size_0(os.stat))
    monkeypatch.setattr(os, "fstat", says_size_0(os.fstat))
    with pytest.raises(ImageTooLargeError, match=r"camera\.jpg: over 67 MB"):
        load_image(path, max_pixels=1)
