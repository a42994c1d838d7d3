"""The management command of a registered importer: arguments in, summary out."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError

from her2db.commands import Command as BaseCommand

from . import registry
from .base import ImportFailed


class ImportCommand(BaseCommand):
    """FILE... with --dry-run, --user and, where it can, --fetch."""

    importer = ""  # the registry's name for it
    # The importer's run is its own transaction, all or nothing.
    atomic = False

    def add_arguments(self, parser):
        fetch_id = registry.get(self.importer).fetch_id
        parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
        if fetch_id:
            parser.add_argument(
                "--fetch",
                nargs="+",
                default=[],
                metavar=fetch_id,
                help="Download these records first (needs network access), "
                "then import them with the FILEs.",
            )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change and write nothing.",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record this user as the author of the changes in the history.",
        )

    def handle(self, *args, files, dry_run, user, fetch=(), **options):
        importer = registry.get(self.importer)
        try:
            with stopped_by_signals():
                summary = importer.run(files, fetch, dry_run=dry_run, username=user)
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        except Stopped as stop:
            raise CommandError(
                f"Stopped by {stop.name}. Nothing was written.",
                returncode=128 + stop.signum,
            ) from None
        style = self.style.SUCCESS if summary.changed else self.style.NOTICE
        for line in summary.lines(options["verbosity"]):
            self.stdout.write(style(line) if line == summary.headline() else line)


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived: unwind, rolling back and stopping the reader.

    A BaseException, so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise Stopped in the import, wherever it is.

    Their default actions end the process at once: no transaction is rolled
    back (the server finds out only when the connection closes) and the
    process reading the file in the background is left behind. Raised as an
    exception instead, they unwind the import: its transaction rolls back,
    its reader is stopped, its connection is closed as the command exits.
    """

    def stop(signum, frame):
        raise Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (call_command in a thread)
        return
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
