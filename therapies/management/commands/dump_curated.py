from pathlib import Path

from django.core.management import call_command

from therapies.curated import fixture_files
from therapies.management.base import CuratedDataCommand


class Command(CuratedDataCommand):
    help = (
        "Write the database's curated data to fixtures/ as JSON with natural keys "
        "(the files load_curated reads): one file per app, trial results apart."
    )

    def handle(self, *args, dir: Path, **options):
        dir.mkdir(parents=True, exist_ok=True)
        for name, labels in fixture_files().items():
            path = dir / name
            call_command(
                "dumpdata",
                *labels,
                natural_foreign=True,
                natural_primary=True,
                indent=1,
                output=str(path),
                verbosity=0,
            )
            self.stdout.write(f"Wrote {path}")
