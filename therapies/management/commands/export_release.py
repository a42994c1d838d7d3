from datetime import date
from pathlib import Path

from therapies.management.base import ReleaseCommand
from therapies.releases import export_release


class Command(ReleaseCommand):
    help = (
        "Write a dated, versioned release of the public data (accepted evidence "
        "only) to DIR: one JSON document, a TSV per table, the citations as "
        "CSL-JSON, BibTeX and RIS, a README and SHA-256 checksums."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--date",
            dest="release_date",
            type=date.fromisoformat,
            default=None,
            help="Release date, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--release",
            metavar="VERSION",
            help="Release version (default: the date as YYYY.MM.DD).",
        )

    def handle(self, *args, dir: Path, release_date, release, **options):
        if isinstance(release_date, str):  # call_command(date="2026-01-02")
            release_date = date.fromisoformat(release_date)
        written = self.release_step(export_release, dir, release_date, release)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote HER2db release {written.version} ({written.rows} rows in "
                f"{written.tables} tables) to {dir}."
            )
        )
