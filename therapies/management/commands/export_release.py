"""Write a dated, versioned release of HER2db's public data to a directory.

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
into any empty database and exporting again gives the same files.
"""

import csv
import hashlib
import io
import json
from datetime import date
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from references import formats
from references.models import Citation

FORMAT = "her2db-release-1"
JSON_NAME = "her2db.json"
CHECKSUMS = "SHA256SUMS"
# Public tables, in an order that loads (each after what it refers to).
TABLES = [
    "references.author",
    "references.citation",
    "references.citationauthor",
    "therapies.target",
    "therapies.agent",
    "therapies.agentalias",
    "therapies.agenttarget",
    "therapies.approval",
    "therapies.mechanism",
    "therapies.mechanismgene",
    "therapies.trial",
    "therapies.trialarm",
    "therapies.trialarmagent",
    "therapies.trialpublication",
    "therapies.evidence",
    "therapies.evidenceagent",
    "therapies.evidencetrial",
    "therapies.evidencecitation",
]
# Tables deliberately left out: derived from the history, not curated.
NOT_RELEASED = {"therapies.changeentry", "therapies.revision"}
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


def public_queryset(label: str):
    model = apps.get_model(label)
    queryset = model._default_manager.all()
    if label == "therapies.evidence":
        queryset = queryset.accepted()
    elif label.startswith("therapies.evidence"):
        queryset = queryset.filter(evidence__status="ACCEPTED")
    return queryset.select_related()


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

HER2db's public data: every citation, author, target, agent (aliases,
targets, approvals), resistance mechanism and trial (arms, agents,
publications), and the evidence that has been accepted in review. Claims in
draft or under review, user accounts, the edit history and row timestamps
are not part of a release.

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


class Command(BaseCommand):
    help = (
        "Write a dated, versioned release of the public data (accepted evidence "
        "only) to DIR: one JSON document, a TSV per table, the citations as "
        "CSL-JSON, BibTeX and RIS, a README and SHA-256 checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, metavar="DIR")
        parser.add_argument(
            "--date",
            dest="release_date",
            type=date.fromisoformat,
            default=None,
            help="Release date, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--release",
            metavar="VERSION",
            help="Release version (default: the date as YYYY.MM.DD).",
        )

    def handle(self, *args, dir: Path, release_date, release, **options):
        if isinstance(release_date, str):  # call_command(date="2026-01-02")
            release_date = date.fromisoformat(release_date)
        released = release_date or timezone.localdate()
        release = release or released.strftime("%Y.%m.%d")
        if dir.exists() and any(dir.iterdir()):
            raise CommandError(f"{dir} is not empty; give a new directory.")
        outer = connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and not outer:
                # One snapshot for every table, however long the export takes.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            tables = {label: table_rows(label) for label in TABLES}
            citations = list(Citation.objects.with_authors().order_by("citekey"))
        meta = {
            "name": "HER2db",
            "format": FORMAT,
            "release": release,
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
        (dir / "tsv").mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (dir / name).write_text(text, encoding="utf-8")
        sums = "".join(f"{sha256(dir / name)}  {name}\n" for name in sorted(files))
        (dir / CHECKSUMS).write_text(sums, encoding="utf-8")
        total = sum(meta["counts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote HER2db release {release} ({total} rows in {len(tables)} "
                f"tables) to {dir}."
            )
        )
