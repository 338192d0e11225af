"""The ``moodtape`` command: thin wrappers that parse, call the public API and format.

Each command group lives in its own module and is registered here. Wherever ``--json`` is given,
stdout holds only JSON; progress and messages go to stderr. A :class:`MoodtapeError` becomes a
one-line message and exit code 1 (2 for usage errors), never a traceback; a reader that closes
stdout early (``| head -1``) ends the command quietly with 141, as SIGPIPE ends a C tool (the exit
codes are listed in ``moodtape --help``).
"""

from __future__ import annotations

import logging
import sys

import click

from moodtape.cli._common import MoodtapeGroup, run_command


@click.group(cls=MoodtapeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="moodtape")
def cli() -> None:
    """moodtape: music and videos that fit how you feel, read from your face.

    \b
    Exit codes, for every command:
      0    done
      1    an error, named on stderr (analyze: any image it could not read)
      2    a usage error: a wrong option or argument
      130  interrupted (Ctrl+C)
      141  standard output closed before the end (| head): stopped quietly
    """


def _register() -> None:
    # Imported here, not at module top, so `moodtape --help` stays fast and each
    # command group imports only what it needs when it runs.
    from moodtape.cli import analyze, evaluate, train

    cli.add_command(analyze.analyze)
    cli.add_command(evaluate.evaluate)
    cli.add_command(train.train)
    cli.add_command(train.export)

    from moodtape.cli import recommend as recommend_commands

    cli.add_command(recommend_commands.recommend)

    from moodtape.cli import convert as convert_commands

    cli.add_command(convert_commands.convert)

    from moodtape.cli import catalog as catalog_commands

    cli.add_command(catalog_commands.catalog)

    from moodtape.cli import serve as serve_commands

    cli.add_command(serve_commands.serve)

    from moodtape.cli import db as db_commands

    cli.add_command(db_commands.db)

    from moodtape.cli import calibrate as calibrate_commands

    cli.add_command(calibrate_commands.calibrate)


try:
    _register()
except KeyboardInterrupt:  # Ctrl+C while the commands load (NumPy, OpenCV, ONNX: about a second)
    sys.stderr.write("moodtape: aborted\n")
    raise SystemExit(130) from None


def main() -> None:
    """Console-script entry point."""
    # Library warnings (e.g. "database unavailable: <driver detail>") stay out of the one-line
    # errors; `moodtape serve` configures logging and still shows them.
    library = logging.getLogger("moodtape")
    if not any(isinstance(handler, logging.NullHandler) for handler in library.handlers):
        library.addHandler(logging.NullHandler())  # once, however often main() runs in one process
    run_command(cli, check_settings=True)
