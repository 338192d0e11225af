"""Shared CLI plumbing: turn moodtape errors into one-line messages and exit codes."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from moodtape.errors import MoodtapeError

EXIT_ERROR = 1


def run_command(command: click.Command) -> None:
    """Run ``command``; a MoodtapeError prints ``moodtape: error: …`` on stderr and exits 1."""
    try:
        command.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("moodtape: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MoodtapeError as exc:
        fail(str(exc))
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
