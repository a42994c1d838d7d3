from pathlib import Path

from django.core.management import call_command

from therapies.groups import CURATED_APPS, curated_labels
from therapies.management.base import CuratedDataCommand


class Command(CuratedDataCommand):
    help = (
        "Write the database's curated data to fixtures/ as JSON with natural keys "
        "(the files load_curated reads), one file per app."
    )

    def handle(self, *args, dir: Path, **options):
        dir.mkdir(parents=True, exist_ok=True)
        for app_label in CURATED_APPS:
            path = dir / f"{app_label}.json"
            call_command(
                "dumpdata",
                *curated_labels(app_label),
                natural_foreign=True,
                natural_primary=True,
                indent=1,
                output=str(path),
                verbosity=0,
            )
            self.stdout.write(f"Wrote {path}")
