"""The management command of a registered importer: arguments in, summary out."""

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
            summary = importer.run(files, fetch, dry_run=dry_run, username=user)
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        style = self.style.SUCCESS if summary.changed else self.style.NOTICE
        for line in summary.lines(options["verbosity"]):
            self.stdout.write(style(line) if line == summary.headline() else line)
