from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from therapies.curated import load_curated_data


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
        if not load_curated_data(dir, verbosity=options["verbosity"]):
            self.stdout.write(f"No fixtures found in {dir}.")
            return
        self.stdout.write(self.style.SUCCESS(f"Loaded the curated data from {dir}."))
