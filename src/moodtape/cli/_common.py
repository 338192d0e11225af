"""Shared CLI plumbing: turn moodtape errors into one-line messages and exit codes."""

from __future__ import annotations

import json
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


def echo_json(value: Any) -> None:
    """Write one JSON document on its own line to stdout."""
    click.echo(json.dumps(value, ensure_ascii=False))


def info(message: str) -> None:
    """A progress or status message: always on stderr, so stdout stays machine-readable."""
    click.echo(message, err=True)
