"""What the curated-data and the release commands share."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from her2db.commands import Command as BaseCommand
from therapies.releases import ReleaseError


class CuratedDataCommand(BaseCommand):
    """dump_curated and load_curated: the JSON files under fixtures/."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", default=str(Path(settings.BASE_DIR) / "fixtures"), type=Path
        )


class ReleaseCommand(BaseCommand):
    """export_release and import_release: a release directory, and its errors."""

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, metavar="DIR")

    def release_step(self, step, *args, **kwargs):
        """Run a release step; a ReleaseError is the command's error."""
        try:
            return step(*args, **kwargs)
        except ReleaseError as error:
            raise CommandError(str(error)) from error
