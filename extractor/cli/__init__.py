"""The ``extractor`` command line: a thin layer that parses arguments, calls the library
and prints. :mod:`~extractor.cli.app` holds the command group and what the commands share;
each module beside it holds a family of commands, registered on import.

Exit codes (when several apply, the first of this list that does):
    130  interrupted (Ctrl-C / SIGTERM); finished records are saved, re-run to resume
    2  usage or configuration error, or the endpoint refused the batch (bad key,
       unknown model, unreachable): nothing more could be done
    3  no input could be read
    4  some input was lost (a file, line or row skipped: each an ``error:`` line)
    1  some papers failed (their records carry ``error``; re-run to retry only those)
    0  everything asked for was done
"""

from . import batch, daily, evaluate, library, local, pages, run  # noqa: F401  (each registers its commands)
from .app import main

__all__ = ["main"]
