"""Shared CLI plumbing: turn moodtape errors into one-line messages and exit codes."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from moodtape.errors import MoodtapeError

EXIT_ERROR = 1
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
    except KeyboardInterrupt:
        click.echo("moodtape: interrupted", err=True)
        sys.exit(130)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """Print one line on stderr and exit with ``code``."""
    click.echo(f"moodtape: error: {message}", err=True)
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
