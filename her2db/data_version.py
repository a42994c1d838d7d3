"""The data version: one number that changes with anything a reader could see.

A single-row table holds it, and a trigger on every table of readable data
advances it in the same transaction as the write, whatever wrote: the API,
the admin, an importer's raw SQL or `bulk_create`, a management command, a
release load, a review transition, or someone at a psql prompt. A reader that
reads the version first and the data after never sees data older than the
version it read, so answers kept under a version (her2db/api/answers.py) are
never stale once the version has moved on.

The triggers are derived from the installed models after every migrate (as
the search indexes are), so a table added by a later migration is covered
without anyone listing it. Each write statement advances the version (on
SQLite, each row): a writer holds the version row's lock from its first write
to its commit, so writers take turns. HER2db is read far more than written,
and its write paths lock the rows they change before writing anything.
"""

from django.apps import apps
from django.db import DatabaseError, connections, transaction

TABLE = "her2db_data_version"
TRIGGER = "her2db_data_version"
# Apps whose tables hold what readers see. auth: a user's groups and
# permissions decide what that user may read.
APPS = ("references", "therapies", "auth")

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {TABLE} SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$
"""


def watched_tables() -> list[str]:
    """The tables of every concrete model (and many-to-many table) of APPS."""
    tables = set()
    for label in APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                tables.add(model._meta.db_table)
    return sorted(tables)


def install(using: str = "default", **kwargs) -> list[str]:
    """Create the version table and a trigger on each watched table.

    Connected to post_migrate; idempotent, but a migrate that applied a
    migration (`plan`) also advances the version. Returns the tables it
    newly watched.
    """
    connection = connections[using]
    present = set(connection.introspection.table_names())
    tables = [table for table in watched_tables() if table in present]
    added = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)"
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {TABLE} VALUES (1, 1) ON CONFLICT (id) DO NOTHING"
            )
            cursor.execute(_PG_FUNCTION)
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE t.tgname = %s",
                [TRIGGER],
            )
            watched = {name for (name,) in cursor.fetchall()}
            for table in tables:
                if table in watched:
                    continue
                cursor.execute(
                    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE "
                    f'OR TRUNCATE ON "{table}" '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
                )
                added.append(table)
        else:
            cursor.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (1, 1)")
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE %s",
                [f"{TRIGGER}_%"],
            )
            watched = {name for (name,) in cursor.fetchall()}
            for table in tables:
                if table in watched:
                    continue
                # SQLite has row triggers only: one small update a row written.
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(
                        f'CREATE TRIGGER IF NOT EXISTS "{TRIGGER}_{table}_{event}" '
                        f'AFTER {event} ON "{table}" BEGIN UPDATE {TABLE} '
                        "SET version = version + 1 WHERE id = 1; END"
                    )
                added.append(table)
        if kwargs.get("plan"):
            # A migration that applied anything may change what every answer
            # shows (a new field), though no row changes: answers kept under
            # the version before it must not be served again.
            advance(cursor)
    return added


def advance(cursor) -> None:
    """Advance the version by hand, for a write its triggers do not see (the
    search documents, which are not models): what readers saw may change."""
    try:
        with transaction.atomic(using=cursor.db.alias):
            cursor.execute(f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1")
    except DatabaseError:
        pass  # not installed yet: nothing has been kept under a version


def current(using: str = "default") -> int | None:
    """The version as the database `using` sees it now; None before migrate."""
    connection = connections[using]
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT version FROM {TABLE} WHERE id = 1")
            row = cursor.fetchone()
    except DatabaseError:
        # Not migrated yet: nothing to cache. (Inside a transaction the error
        # would break it; a GET runs outside one.)
        return None
    return row[0] if row else None
