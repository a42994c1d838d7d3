from pathlib import Path

from therapies.management.base import ReleaseCommand
from therapies.releases import import_release


class Command(ReleaseCommand):
    help = (
        "Load a HER2db release (written by export_release) into an empty "
        "database, after checking its checksums and schema version."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record this user as the author of the loaded rows' history.",
        )

    def handle(self, *args, dir: Path, user: str | None, **options):
        loaded = self.release_step(import_release, dir, username=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded HER2db release {loaded.version} ({loaded.date}): "
                f"{loaded.rows} rows."
            )
        )
