from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from therapies.releases import ReleaseError, import_release


class Command(BaseCommand):
    help = (
        "Load a HER2db release (written by export_release) into an empty "
        "database, after checking its checksums and schema version."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, metavar="DIR")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record this user as the author of the loaded rows' history.",
        )

    def handle(self, *args, dir: Path, user: str | None, **options):
        try:
            loaded = import_release(dir, username=user)
        except ReleaseError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded HER2db release {loaded.version} ({loaded.date}): "
                f"{loaded.rows} rows."
            )
        )
