import io
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

# Loaded in this order, all or nothing.
FIXTURES = ["references.json", "therapies.json"]


class Command(BaseCommand):
    help = (
        "Load the curated data set from fixtures/ (creating or updating rows by "
        "their natural keys, so running it again duplicates nothing) and give "
        "each newly loaded record its first history entry."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", default=str(Path(settings.BASE_DIR) / "fixtures"), type=Path
        )

    def handle(self, *args, dir: Path, **options):
        paths = [dir / name for name in FIXTURES if (dir / name).exists()]
        if not paths:
            self.stdout.write(f"No fixtures found in {dir}.")
            return
        with transaction.atomic():
            call_command("loaddata", *map(str, paths), verbosity=options["verbosity"])
            # Its "existing history found" lines are noise on every later run.
            call_command("populate_history", auto=True, stdout=io.StringIO())
        self.stdout.write(self.style.SUCCESS(f"Loaded the curated data from {dir}."))
