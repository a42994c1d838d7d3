"""GIN indexes for the API's full-text search of citations, PostgreSQL only.

The expressions match her2db.api.search with the `search_groups` of
references/filters.py (CitationFilter); tests/api/test_search.py checks that
PostgreSQL uses them. SQLite has no such index and searches with LIKE.
Abstracts are left out: a common word matches most of them, and PostgreSQL
would then recompute every abstract's vector (about a second for 10,000).
"""

from django.db import migrations

INDEXES = [
    (
        "references_citation",
        "references_citation_search",
        [
            ("A", ["citekey", "doi", "pmid", "pmcid"]),
            ("B", ["title"]),
            ("C", ["journal"]),
        ],
    ),
    # A citation is also found by its authors' family names.
    ("references_author", "references_author_search", [("A", ["family_name"])]),
]


def vector_sql(groups) -> str:
    """The SQL Django writes for SearchVector(*columns, weight=w, config="english")."""
    parts = []
    for weight, columns in groups:
        text = " || ' ' || ".join(f"COALESCE(\"{c}\", '')" for c in columns)
        parts.append(
            f"setweight(to_tsvector('english'::regconfig, {text}), '{weight}')"
        )
    return " || ".join(parts)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, groups in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f"USING gin (({vector_sql(groups)}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, name, _ in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("references", "0002_year_and_position_validators"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
