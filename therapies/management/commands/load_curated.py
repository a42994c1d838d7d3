from pathlib import Path

from therapies.curated import load_curated_data
from therapies.management.base import CuratedDataCommand


class Command(CuratedDataCommand):
    help = (
        "Load the curated data set from fixtures/ (creating or updating rows by "
        "their natural keys, so running it again duplicates nothing) and give "
        "each newly loaded record its first history entry."
    )

    def handle(self, *args, dir: Path, **options):
        if not load_curated_data(dir, verbosity=options["verbosity"]):
            self.stdout.write(f"No fixtures found in {dir}.")
            return
        self.stdout.write(self.style.SUCCESS(f"Loaded the curated data from {dir}."))
