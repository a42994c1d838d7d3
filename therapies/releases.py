"""Releases: a dated, versioned copy of HER2db's public data, written to a
directory and loaded back into an empty database.

A release holds every citation, agent, target, mechanism and trial, and the
accepted evidence (nothing in draft or review, no user accounts, no history,
no timestamps):

    her2db.json          everything, one JSON document, rows keyed naturally
    tsv/<table>.tsv      one tab-separated file per table
    citations.json       the citations as CSL-JSON
    citations.bib        ... as BibTeX
    citations.ris        ... as RIS
    README.md            release, date, schema version and counts
    SHA256SUMS           checksums of the files above (sha256sum -c SHA256SUMS)

Rows refer to each other by natural keys (citekey, agent slug, NCT id,
evidence UID), never by database ids, so ``import_release`` loads a release
into any empty database and exporting again gives the same files. The
commands export_release and import_release call this module.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from her2db.registry import registry
from references import formats
from references.importers.base import ImportContext, ImportFailed, find_user
from references.models import Citation
from therapies.checks import approved_without_approval
from therapies.curated import natural_keys_read_once

FORMAT = "her2db-release-1"
JSON_NAME = "her2db.json"
CHECKSUMS = "SHA256SUMS"
# Never released: bookkeeping and who did what.
PRIVATE_FIELDS = {
    "created_at",
    "updated_at",
    "created_by",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "status_reason",
}
SCHEMA_APPS = ["references", "therapies"]


def schema_version() -> dict[str, list[str]]:
    """The latest migration of each app: the schema a release was made with."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {
        app: sorted(name for label, name in graph.leaf_nodes() if label == app)
        for app in SCHEMA_APPS
    }


def released_tables() -> list[str]:
    """The released tables, in an order that loads (the registry's)."""
    return [resource.label for resource in registry.released()]


def public_queryset(label: str):
    """What anyone may read of a table: a release holds nothing more."""
    return registry.public_rows(apps.get_model(label)).select_related()


def released_fields(model) -> list[str]:
    return [
        f.name
        for f in model._meta.local_fields
        if f.serialize and f.name not in PRIVATE_FIELDS
    ]


def table_rows(label: str) -> list[dict]:
    """The table's public rows, natural keys for relations, in a stable order."""
    model = apps.get_model(label)
    objects = list(public_queryset(label))
    data = serializers.serialize(
        "python",
        objects,
        fields=released_fields(model),
        use_natural_foreign_keys=True,
        use_natural_primary_keys=True,
    )
    keyed = [
        (_sort_key(obj), item["fields"])
        for obj, item in zip(objects, data, strict=True)
    ]
    keyed.sort(key=lambda pair: pair[0])
    return [fields for _, fields in keyed]


def _sort_key(obj) -> tuple:
    key = tuple(str(part) for part in obj.natural_key())
    if hasattr(obj, "ancestors"):  # a tree: parents load before children
        return (len(obj.ancestors()), *key)
    return key


def as_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(str(part) for part in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def tsv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([as_cell(row.get(c)) for c in columns])
    return out.getvalue()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def readme(meta: dict) -> str:
    counts = "\n".join(
        f"| {label} | {count} |" for label, count in meta["counts"].items()
    )
    schema = ", ".join(
        f"{app} {' '.join(names)}" for app, names in meta["schema"].items()
    )
    return f"""# HER2db release {meta["release"]}

Released {meta["date"]}. Schema: {schema}. Format: {meta["format"]}.

HER2db's public data: every citation, author (and the pairs of authors
curators found to be different people), target, agent (aliases, targets,
approvals), resistance mechanism and trial (arms, agents, publications,
reported outcomes), and the evidence that has been accepted in review.
Claims in draft or under review, user accounts, the edit history and row
timestamps are not part of a release.

| Table | Rows |
| --- | --- |
{counts}

## Files

- `{JSON_NAME}`: everything in one JSON document. `tables` maps each table to
  its rows; rows refer to each other by natural keys (a citation by its
  citekey, an agent by its slug, a trial by its NCT id, a claim by its UID).
- `tsv/`: one tab-separated file per table, with a header row; a key made of
  several parts is written with `|` between them.
- `citations.json`, `citations.bib`, `citations.ris`: the citations as
  CSL-JSON, BibTeX and RIS.
- `{CHECKSUMS}`: SHA-256 checksums; check them with `sha256sum -c {CHECKSUMS}`.

Load a release into an empty HER2db database with
`python manage.py import_release DIR`.
"""


class ReleaseError(Exception):
    """A release that cannot be written or loaded, and why."""


@dataclass
class Release:
    """What was written or loaded."""

    version: str
    date: str
    rows: int
    tables: int


def export_release(
    directory: Path, release_date: date | None = None, version: str | None = None
) -> Release:
    """Write the release to ``directory``, which must be new or empty."""
    released = release_date or timezone.localdate()
    version = version or released.strftime("%Y.%m.%d")
    if directory.exists() and any(directory.iterdir()):
        raise ReleaseError(f"{directory} is not empty; give a new directory.")
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            # One snapshot for every table, however long the export takes.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        tables = {label: table_rows(label) for label in released_tables()}
        citations = list(Citation.objects.with_authors().order_by("citekey"))
    meta = {
        "name": "HER2db",
        "format": FORMAT,
        "release": version,
        "date": released.isoformat(),
        "schema": schema_version(),
        "counts": {label: len(rows) for label, rows in tables.items()},
    }
    files = {
        JSON_NAME: json.dumps(
            {**meta, "tables": tables},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        "citations.json": formats.to_csl_json(citations) + "\n",
        "citations.bib": formats.to_bibtex(citations),
        "citations.ris": formats.to_ris(citations),
        "README.md": readme(meta),
    }
    for label, rows in tables.items():
        columns = released_fields(apps.get_model(label))
        files[f"tsv/{label}.tsv"] = tsv(rows, columns)
    (directory / "tsv").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    sums = "".join(f"{sha256(directory / name)}  {name}\n" for name in sorted(files))
    (directory / CHECKSUMS).write_text(sums, encoding="utf-8")
    total = sum(meta["counts"].values())
    return Release(version, meta["date"], total, len(tables))


def import_release(directory: Path, username: str | None = None) -> Release:
    """Load the release in ``directory`` into an empty database, after
    checking its checksums and schema version; all or nothing."""
    if not directory.is_dir():
        raise ReleaseError(f"{directory}: no such directory.")
    verify_checksums(directory)
    path = directory / JSON_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ReleaseError(f"{path}: not JSON ({error}).") from None
    if document.get("format") != FORMAT:
        raise ReleaseError(
            f"{directory}: release format {document.get('format')!r}, "
            f"expected {FORMAT!r}."
        )
    if document.get("schema") != schema_version():
        raise ReleaseError(
            f"{directory}: the release was made with schema "
            f"{document.get('schema')}, this database's code is at "
            f"{schema_version()}; load it with the HER2db version that made it."
        )
    occupied = [
        label for label in released_tables() if apps.get_model(label).objects.exists()
    ]
    if occupied:
        raise ReleaseError(
            "The database is not empty (it has "
            f"{', '.join(occupied)}); import_release only loads into an "
            "empty database."
        )
    try:
        user = find_user(username)
    except ImportFailed as error:
        raise ReleaseError(str(error)) from None
    ctx = ImportContext(f"import_release {directory.name}"[:100], user=user)
    tables = document.get("tables", {})
    try:
        with transaction.atomic(), natural_keys_read_once():
            for label in released_tables():
                _load(label, tables.get(label, []), ctx)
            counts = {
                label: apps.get_model(label).objects.count()
                for label in released_tables()
            }
            if counts != document.get("counts"):
                raise ReleaseError(
                    f"Loaded {counts}, but the release lists "
                    f"{document.get('counts')}; nothing was loaded."
                )
            # Rows loaded wholesale keep the rule the admin and the API hold.
            broken = list(approved_without_approval())
            if broken:
                raise ReleaseError(f"{path}: {'; '.join(broken)}; nothing was loaded.")
    except (DeserializationError, DatabaseError) as error:
        raise ReleaseError(f"{path}: {error} Nothing was loaded.") from None
    return Release(
        document.get("release"),
        document.get("date"),
        sum(counts.values()),
        len(released_tables()),
    )


TIMESTAMPS = {"created_at", "updated_at"}


def _load(label: str, rows: list[dict], ctx: ImportContext) -> None:
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


def verify_checksums(directory: Path) -> None:
    sums = directory / CHECKSUMS
    if not sums.is_file():
        raise ReleaseError(f"{directory}: no {CHECKSUMS}; is this a HER2db release?")
    listed = set()
    for number, line in enumerate(sums.read_text().splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if not name or len(digest) != 64:
            raise ReleaseError(f"{sums}: line {number} is not 'SHA256  FILE'.")
        path = directory / name
        if not path.resolve().is_relative_to(directory.resolve()):
            raise ReleaseError(
                f"{sums}: line {number} names a file outside {directory}."
            )
        if not path.is_file():
            raise ReleaseError(
                f"{directory}: {name} is listed in {CHECKSUMS} but missing."
            )
        if sha256(path) != digest:
            raise ReleaseError(
                f"{directory}: {name} does not match its checksum; the release is "
                "damaged or was changed."
            )
        listed.add(name)
    if JSON_NAME not in listed:
        raise ReleaseError(f"{directory}: {CHECKSUMS} does not cover {JSON_NAME}.")
