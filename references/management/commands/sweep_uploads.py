from her2db.commands import Command as BaseCommand
from references.admin_import import sweep_uploads


class Command(BaseCommand):
    help = (
        "Remove files uploaded in the admin (Import a file) that were never "
        "imported nor cancelled, older than UPLOAD_MAX_AGE_HOURS (24 by default)."
    )
    atomic = False  # files only

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="Remove uploads older than this many hours instead.",
        )

    def handle(self, *args, hours, **options):
        removed = sweep_uploads(None if hours is None else hours * 3600)
        self.stdout.write(f"Removed {len(removed)} abandoned uploads.")
