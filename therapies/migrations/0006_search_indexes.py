"""GIN indexes for the API's full-text search (?search=), PostgreSQL only.

Each index is on the same weighted tsvector expression that her2db.api.search
builds from the FilterSet's `search_groups` (therapies/filters.py), so that
`vector @@ query` uses the index; tests/api/test_search.py checks the plans.
SQLite has no such index and searches with LIKE instead.
"""

from django.db import migrations

# (table, index, [(weight, [column, ...]), ...])
INDEXES = [
    (
        "therapies_target",
        "therapies_target_search",
        [("A", ["symbol", "aliases", "hgnc_id", "uniprot_id"]), ("B", ["name"])],
    ),
    (
        "therapies_agent",
        "therapies_agent_search",
        [
            (
                "A",
                ["name", "slug", "abbreviation", "chembl_id", "drugbank_id", "ncit_id"],
            ),
            ("C", ["mechanism_of_action", "payload"]),
        ],
    ),
    # An agent is also found by its aliases.
    ("therapies_agentalias", "therapies_agentalias_search", [("A", ["alias"])]),
    (
        "therapies_mechanism",
        "therapies_mechanism_search",
        [("A", ["name", "slug"]), ("C", ["description"])],
    ),
    (
        "therapies_trial",
        "therapies_trial_search",
        [
            ("A", ["nct_id", "acronym"]),
            ("B", ["title", "official_title"]),
            ("C", ["sponsor", "conditions"]),
        ],
    ),
    ("therapies_evidence", "therapies_evidence_search", [("A", ["statement"])]),
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
        ("therapies", "0005_change_feed"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
