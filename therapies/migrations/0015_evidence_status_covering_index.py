"""A covering index on the evidence table, on PostgreSQL only.

A search's count and a list's joins check each matching claim's status (and
mechanism) in this index alone, an index-only scan, rather than in the wide
row: on `make bench-search`'s data set (200,000 claims) a count over about
2,000 matches took 4-7 ms instead of 9-11, and over 13,000 matches 28-35 ms
instead of 85-97 (pgbench, with and without the index in turn). SQLite has
no INCLUDE, and an index on the primary key alone would only repeat it, so
there is nothing to create there. The index is not declared in the model's
Meta for the same reason: Django would create it on SQLite without its
included columns.
"""

from django.db import migrations

NAME = "therapies_evidence_id_status"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "therapies_evidence" ("id") '
            'INCLUDE ("status", "mechanism_id")'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [
        ("therapies", "0014_approval_date_precision"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
