"""Shared CLI plumbing: turn moodtape errors into one-line messages and exit codes."""

from __future__ import annotations

import json
import os
import re
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from moodtape.errors import MoodtapeError

EXIT_ERROR = 1
#: Standard output's reader went away early (``moodtape analyze *.jpg --json | head -1``): 128 + 13
#: (SIGPIPE), the status a shell reports for a C tool that SIGPIPE ended, such as ``yes | head``.
#: Python's own recipe (the "Note on SIGPIPE" in the ``signal`` docs) exits 1, but 1 already means
#: "an image could not be read", and a script must be able to tell "I stopped reading" from that.
EXIT_READER_GONE = 141
_HELP = frozenset({"-h", "--help", "--version"})


def run_command(command: click.Command, *, check_settings: bool = False) -> None:
    """Run ``command``; a MoodtapeError prints ``moodtape: error: …`` on stderr and exits 1.

    With ``check_settings``, every setting is checked before any command starts, so a typo in
    ``.env`` is one clear line now rather than a failure halfway through; asking for help or the
    version works whatever the settings.
    """
    try:
        if any("\x00" in argument for argument in sys.argv[1:]):
            raise click.UsageError("arguments cannot hold NUL characters")
        if check_settings and not _HELP & set(sys.argv[1:]):
            from moodtape.config import Settings

            Settings.load()
        command.main(standalone_mode=False)
    except ReaderGone:
        _quiet(sys.stdout)
        sys.exit(EXIT_READER_GONE)
    except click.exceptions.Abort:
        click.echo("moodtape: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MoodtapeError as exc:
        fail(str(exc))
    except OSError as exc:  # a file or folder the command could not use (permissions, disk full, …)
        where = f" ({exc.filename})" if exc.filename else ""
        fail(f"{exc.strerror or exc}{where}; check the path and its permissions")
    except OtherBrokenPipe as exc:
        fail(f"{exc.error.strerror or exc.error}: a pipe moodtape wrote to has no reader any more")
    except KeyboardInterrupt:
        click.echo("moodtape: interrupted", err=True)
        sys.exit(130)


class ReaderGone(Exception):  # noqa: N818 (a state, not a failure: nothing went wrong here)
    """Standard output's reader closed the pipe (``| head -1``): stop quietly, as Unix tools do.

    Deliberately not an :class:`OSError`: Click catches a broken pipe itself and exits 1 (the code of
    "an image could not be read"), so it is passed through Click under this name instead.
    """


class OtherBrokenPipe(Exception):  # noqa: N818 (named for what it wraps)
    """A broken pipe that is not standard output's (stderr's, or one the command opened): an error.

    Passed through Click under this name for the same reason as :class:`ReaderGone`: Click takes
    every broken pipe for a closed stdout and exits 1 without a word.
    """

    def __init__(self, error: BrokenPipeError) -> None:
        super().__init__(error)
        self.error = error


@contextmanager
def _broken_pipe_as_reader_gone() -> Iterator[None]:
    """A broken pipe becomes :class:`ReaderGone` only when it is standard output's own.

    Any other (a closed stderr, a pipe the command itself opened) is an error like any ``OSError``,
    and is said as one (:class:`OtherBrokenPipe`): it too had ended the command with 141, quietly, as
    though stdout were closed.
    """
    try:
        yield
    except BrokenPipeError as exc:
        if _stdout_is_widowed():
            raise ReaderGone from exc
        raise OtherBrokenPipe(exc) from exc


def _stdout_is_widowed() -> bool:
    """Whether standard output is a pipe (or socket) that nobody reads any more.

    ``poll`` answers without writing a byte: such a pipe reports ``POLLERR`` (Linux) or ``POLLHUP``;
    a file, a terminal, ``/dev/null`` or a pipe still read report neither. Where there is no
    ``poll`` (Windows), a broken pipe is taken to be standard output's, as before.
    """
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # None (closed at start) or a stand-in stream
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fileno, select.POLLOUT)
    try:
        events = poller.poll(0)
    except OSError:
        return False
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in events)


class MoodtapeGroup(click.Group):
    """The ``moodtape`` group: a closed standard output ends any command with :data:`EXIT_READER_GONE`.

    ``make_context`` covers ``moodtape --help`` and ``--version``; ``invoke`` covers every command
    (and its own ``--help``, parsed there).
    """

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _broken_pipe_as_reader_gone():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _broken_pipe_as_reader_gone():
            return super().invoke(ctx)


def _quiet(stream: TextIO | None) -> None:
    """Point ``stream`` (standard output or error) at /dev/null, so Python's last flush at exit cannot fail again.

    Without it, output still in stdout's buffer made the interpreter print "Exception ignored …
    BrokenPipeError" and exit 120. This is the signal docs' recipe.
    """
    if stream is None:  # closed when Python started: nothing to flush
        return
    try:
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stand-in stream (a test runner's): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """Print one line on stderr and exit with ``code``; with stderr gone too, exit all the same."""
    try:
        click.echo(f"moodtape: error: {message}", err=True)
    except OSError:  # stderr closed or its reader gone: the exit code is all that can still say it
        _quiet(sys.stderr)
    sys.exit(code)


#: A lone surrogate: how Python holds a byte of a file name that is not UTF-8 (``caf\udce9.jpg``).
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def echo_json(value: Any) -> None:
    r"""Write one JSON document on its own line to stdout, valid UTF-8 whatever the file names in it.

    A file name that is not UTF-8 (``caf\xe9.jpg``, from an old Latin-1 archive) went out as its raw
    byte, so the line was not UTF-8 and JSON readers refused it (``json.loads`` on the bytes), or it
    crashed the command where stdout is strict. Such a byte (a lone surrogate in a Python string,
    in a name or in a message that quotes it) is written as U+FFFD; the escape ``\udce9`` would be
    JSON text too, but readers disagree on it (Rust's serde_json refuses the line, jq and Go read
    U+FFFD). A picture's raw name goes in a field of its own: :func:`moodtape.cli._pictures.picture_fields`.
    """
    text = json.dumps(value, ensure_ascii=False)
    click.echo(_LONE_SURROGATE.sub("\ufffd", text))


def info(message: str) -> None:
    """A progress or status message: always on stderr, so stdout stays machine-readable."""
    click.echo(message, err=True)
