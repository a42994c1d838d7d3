"""PostgreSQL's full-text search indexes, kept in step with the registry.

Each resource's `search` groups (and each `search_related` model's columns)
get a GIN index on the same weighted tsvector expression the API's search
builds, so that `vector @@ query` can use it. The indexes are derived from the
declarations after every migrate, not written out in migrations: an index
carries a digest of its expression as its comment, and one whose declaration
changed is rebuilt. SQLite has no such index and searches with LIKE.
"""

import hashlib

from django.db import connections

from .registry import SearchGroups, registry

CONFIG = "english"
COMMENT = "her2db search index "


def vector_sql(groups: SearchGroups) -> str:
    """The SQL Django writes for SearchVector(*columns, weight=w, config=CONFIG)."""
    parts = []
    for weight, columns in groups:
        text = " || ' ' || ".join(f"COALESCE(\"{c}\", '')" for c in columns)
        parts.append(
            f"setweight(to_tsvector('{CONFIG}'::regconfig, {text}), '{weight}')"
        )
    return " || ".join(parts)


def wanted_indexes() -> dict[str, tuple[str, str]]:
    """{index name: (table, expression)} for every declared search."""
    found = {}
    for resource in registry:
        specs = [(resource.model, resource.search)]
        specs += [
            (model, (("A", columns),)) for model, _, columns in resource.search_related
        ]
        for model, groups in specs:
            if groups:
                table = model._meta.db_table
                found[f"{table}_search"] = (table, vector_sql(groups))
    return found


def digest(expression: str) -> str:
    return COMMENT + hashlib.sha256(expression.encode()).hexdigest()[:16]


def sync_search_indexes(using: str = "default", **kwargs) -> list[str]:
    """Create, rebuild or drop search indexes to match the registry.

    Connected to post_migrate; returns the names of the indexes it built.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    wanted = wanted_indexes()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'i' AND n.nspname = current_schema() "
            "AND c.relname LIKE %s",
            ["%\\_search"],
        )
        present = dict(cursor.fetchall())
        built = []
        for name, comment in present.items():
            ours = name in wanted or (comment or "").startswith(COMMENT)
            if ours and comment != (
                digest(wanted[name][1]) if name in wanted else None
            ):
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
                present[name] = None
        for name, (table, expression) in wanted.items():
            if present.get(name) == digest(expression):
                continue
            cursor.execute(
                f'CREATE INDEX "{name}" ON "{table}" USING gin (({expression}))'
            )
            cursor.execute(f"COMMENT ON INDEX \"{name}\" IS '{digest(expression)}'")
            built.append(name)
    return built
