"""Load a release written by export_release into an empty database."""

import json
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from references.importing import ImportContext
from therapies.curated import natural_keys_read_once
from therapies.management.commands.export_release import (
    CHECKSUMS,
    FORMAT,
    JSON_NAME,
    TABLES,
    schema_version,
    sha256,
)

TIMESTAMPS = {"created_at", "updated_at"}


def verify_checksums(directory: Path) -> None:
    sums = directory / CHECKSUMS
    if not sums.is_file():
        raise CommandError(f"{directory}: no {CHECKSUMS}; is this a HER2db release?")
    listed = set()
    for number, line in enumerate(sums.read_text().splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if not name or len(digest) != 64:
            raise CommandError(f"{sums}: line {number} is not 'SHA256  FILE'.")
        path = directory / name
        if not path.resolve().is_relative_to(directory.resolve()):
            raise CommandError(
                f"{sums}: line {number} names a file outside {directory}."
            )
        if not path.is_file():
            raise CommandError(
                f"{directory}: {name} is listed in {CHECKSUMS} but missing."
            )
        if sha256(path) != digest:
            raise CommandError(
                f"{directory}: {name} does not match its checksum; the release is "
                "damaged or was changed."
            )
        listed.add(name)
    if JSON_NAME not in listed:
        raise CommandError(f"{directory}: {CHECKSUMS} does not cover {JSON_NAME}.")


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
        if not dir.is_dir():
            raise CommandError(f"{dir}: no such directory.")
        verify_checksums(dir)
        try:
            document = json.loads((dir / JSON_NAME).read_text(encoding="utf-8"))
        except ValueError as error:
            raise CommandError(f"{dir / JSON_NAME}: not JSON ({error}).") from None
        if document.get("format") != FORMAT:
            raise CommandError(
                f"{dir}: release format {document.get('format')!r}, "
                f"expected {FORMAT!r}."
            )
        if document.get("schema") != schema_version():
            raise CommandError(
                f"{dir}: the release was made with schema {document.get('schema')}, "
                f"this database's code is at {schema_version()}; load it with the "
                "HER2db version that made it."
            )
        occupied = [label for label in TABLES if apps.get_model(label).objects.exists()]
        if occupied:
            raise CommandError(
                "The database is not empty (it has "
                f"{', '.join(occupied)}); import_release only loads into an "
                "empty database."
            )
        ctx = ImportContext(f"import_release {dir.name}"[:100], user=self._user(user))
        tables = document.get("tables", {})
        try:
            with transaction.atomic(), natural_keys_read_once():
                for label in TABLES:
                    self._load(label, tables.get(label, []), ctx)
                counts = {
                    label: apps.get_model(label).objects.count() for label in TABLES
                }
                if counts != document.get("counts"):
                    raise CommandError(
                        f"Loaded {counts}, but the release lists "
                        f"{document.get('counts')}; nothing was loaded."
                    )
        except (DeserializationError, DatabaseError) as error:
            raise CommandError(
                f"{dir / JSON_NAME}: {error} Nothing was loaded."
            ) from None
        total = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded HER2db release {document.get('release')} "
                f"({document.get('date')}): {total} rows."
            )
        )

    def _load(self, label: str, rows: list[dict], ctx: ImportContext) -> None:
        model = apps.get_model(label)
        objects = serializers.deserialize(
            "python",
            ({"model": label, "fields": row} for row in rows),
            handle_forward_references=False,
        )
        stamps = [f.name for f in model._meta.local_fields if f.name in TIMESTAMPS]
        now = timezone.now()
        saved = []
        for item in objects:
            for name in stamps:  # a raw save leaves auto_now fields unset
                setattr(item.object, name, now)
            item.save()  # raw: no signals; history is written below, in bulk
            saved.append(item.object)
        if hasattr(model, "history"):
            ctx.record_history(model, saved)

    def _user(self, username):
        if not username:
            return None
        User = get_user_model()
        try:
            return User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
