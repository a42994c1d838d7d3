"""Search documents: one per searchable record, kept in step by triggers.

Each resource that declares `search` columns gets a document table,
`<table>_fts`, holding its text in four weighted parts (A the most telling,
D the least): its own columns, and the text of related rows it declares in
`search_related` (a citation's authors, an evidence item's agents). The
triggers that keep it in step are written from the same declarations, on
the record's table and on every table a related text comes through, so
every path that writes rows keeps the documents current: the API and the
admin, bulk_create and the importers' raw SQL, loaddata and release loads.

- SQLite: an FTS5 table (porter stemming over unicode61) with columns
  a, b, c, d and the record's id as rowid; row triggers.
- PostgreSQL: a table (id, vector) where vector is the weighted
  `to_tsvector('english', ...)` of the same text, GIN-indexed; statement
  triggers over transition tables, so a bulk insert refreshes each document
  once per statement.

Punctuation is a word break on both engines (PostgreSQL's own parser would
keep "10.1093/jnci/djk003" whole; FTS5's tokenizer splits it), so that the
same query finds the same rows on each.

Nothing here is written in a migration: after every migrate the tables and
triggers are compared with what the registry asks for (a digest of the SQL,
kept in `her2db_search_state`) and, when they differ, rebuilt and refilled.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models

from . import data_version
from .registry import Resource, registry

CONFIG = "english"
WEIGHTS = "ABCD"
# Relative weights of the parts A-D: PostgreSQL's ts_rank defaults, and the
# same for FTS5's bm25 so that both rank a title hit above an abstract hit.
RANK_WEIGHTS = (1.0, 0.4, 0.2, 0.1)
STATE_TABLE = "her2db_search_state"
PREFIX = "search_"
ROW = "doc_row"  # the alias of the record's row in a document's SELECT


@dataclass(frozen=True)
class Related:
    """Text of related rows that also finds a record, and how the rows link.

    Declared as (model, path from that model to the record, columns[, weight]).
    The path is one relation: a foreign key to the record (an agent's
    aliases), the record's foreign key to it (an evidence item's mechanism),
    or a many-to-many either way (a citation's authors).
    """

    model: type[models.Model]
    path: str
    columns: tuple[str, ...]
    weight: str = "A"

    @property
    def field(self):
        return self.model._meta.get_field(self.path)

    @property
    def kind(self) -> str:
        field = self.field
        if field.many_to_many:
            return "m2m"
        if field.many_to_one:
            return "fk"  # the related row points at the record
        if field.one_to_many:
            return "reverse"  # the record points at the related row
        raise ValueError(f"{self.model.__name__}.{self.path}: unsupported path.")

    def through(self, record: type[models.Model]) -> tuple[str, str, str]:
        """(through table, its column to the related row, its column to the record)."""
        field = self.field
        through = (
            field.through if hasattr(field, "through") else field.remote_field.through
        )
        to_related = to_record = None
        for f in through._meta.concrete_fields:
            if f.is_relation and f.related_model is self.model:
                to_related = f.column
            elif f.is_relation and f.related_model is record:
                to_record = f.column
        return through._meta.db_table, to_related, to_record


def related_of(resource: Resource) -> list[Related]:
    return [Related(*declared) for declared in resource.search_related]


def q(name: str) -> str:
    return f'"{name}"'


class Document:
    """The search document of one resource, as SQL for one engine."""

    def __init__(self, resource: Resource, vendor: str):
        self.resource = resource
        self.model = resource.model
        self.vendor = vendor
        self.table = self.model._meta.db_table
        self.pk = self.model._meta.pk.column
        self.name = f"{self.table}_fts"

    @property
    def kept(self) -> dict[str, str]:
        """{lookup: column} of the record's public rule (the registry's
        `public`), kept on PostgreSQL beside the vector, so that an anonymous
        search counts its matches in the documents alone (her2db/api/search.py,
        `public_matches`). Empty on SQLite, for a record without a rule, and
        for a rule that reads anything but the record's own columns."""
        lookups = registry.public_lookups(self.model)
        if self.vendor != "postgresql" or not lookups:
            return {}
        kept = {}
        for lookup in lookups:
            try:
                field = self.model._meta.get_field(lookup)
            except FieldDoesNotExist:
                return {}
            if not field.concrete or field.is_relation:
                return {}
            kept[lookup] = field.column
        return kept

    # -- the text of each weighted part -------------------------------------

    def _column(self, expression: str) -> str:
        cast = "::text" if self.vendor == "postgresql" else ""
        return f"COALESCE({expression}{cast}, '')"

    def _aggregate(self, column: str, source: str) -> str:
        if self.vendor == "postgresql":
            return f"(SELECT string_agg(r.{q(column)}::text, ' ') {source})"
        return f"(SELECT group_concat(r.{q(column)}, ' ') {source})"

    def _related_source(self, related: Related) -> str:
        """FROM/WHERE of the related rows of the record ROW, aliased r."""
        table = q(related.model._meta.db_table)
        pk = q(related.model._meta.pk.column)
        row_pk = f"{ROW}.{q(self.pk)}"
        if related.kind == "fk":
            return f"FROM {table} r WHERE r.{q(related.field.column)} = {row_pk}"
        if related.kind == "reverse":
            column = related.field.field.column
            return f"FROM {table} r WHERE r.{pk} = {ROW}.{q(column)}"
        through, to_related, to_record = related.through(self.model)
        return (
            f"FROM {table} r JOIN {q(through)} t ON t.{q(to_related)} = r.{pk} "
            f"WHERE t.{q(to_record)} = {row_pk}"
        )

    def parts(self) -> dict[str, str]:
        """{weight: SQL of the text of that part} for the row aliased ROW."""
        found: dict[str, list[str]] = {w: [] for w in WEIGHTS}
        for weight, columns in self.resource.search:
            found[weight] += [self._column(f"{ROW}.{q(c)}") for c in columns]
        for related in related_of(self.resource):
            source = self._related_source(related)
            found[related.weight] += [
                self._column(self._aggregate(c, source)) for c in related.columns
            ]
        return {w: " || ' ' || ".join(found[w]) or "''" for w in WEIGHTS}

    def vector(self) -> str:
        """PostgreSQL: the weighted tsvector of the row aliased ROW."""
        vectors = []
        for weight, text in self.parts().items():
            if text == "''":
                continue
            words = f"regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g')"
            vectors.append(
                f"setweight(to_tsvector('{CONFIG}'::regconfig, {words}), '{weight}')"
            )
        return " || ".join(vectors)

    # -- writing documents ---------------------------------------------------

    def refresh(self, ids: str | None) -> list[str]:
        """Statements that rewrite the documents of the records `ids` selects
        (all of them when None), and drop those of records that are gone."""
        where = f" WHERE {ROW}.{q(self.pk)} IN ({ids})" if ids else ""
        if self.vendor == "postgresql":
            kept = [q(column) for column in self.kept.values()]
            updated = ", ".join(f"{c} = EXCLUDED.{c}" for c in ["vector", *kept])
            statements = [
                f"INSERT INTO {q(self.name)} ({', '.join(['id', 'vector', *kept])}) "
                f"SELECT {ROW}.{q(self.pk)}, {self.vector()}"
                + "".join(f", {ROW}.{c}" for c in kept)
                + f" FROM {q(self.table)} {ROW}{where} "
                f"ON CONFLICT (id) DO UPDATE SET {updated}"
            ]
            if not ids:
                statements.insert(0, f"DELETE FROM {q(self.name)}")
            return statements
        parts = self.parts()
        return [
            f"DELETE FROM {q(self.name)}" + (f" WHERE rowid IN ({ids})" if ids else ""),
            f"INSERT INTO {q(self.name)} (rowid, a, b, c, d) "
            f"SELECT {ROW}.{q(self.pk)}, "
            + ", ".join(parts[w] for w in WEIGHTS)
            + f" FROM {q(self.table)} {ROW}{where}",
        ]

    def forget(self, ids: str) -> list[str]:
        key = "id" if self.vendor == "postgresql" else "rowid"
        return [f"DELETE FROM {q(self.name)} WHERE {key} IN ({ids})"]

    def create(self) -> list[str]:
        if self.vendor == "postgresql":
            connection = connections["default"]
            pk_type = self.model._meta.pk.rel_db_type(connection)
            field = self.model._meta.get_field
            kept = "".join(
                f", {q(column)} {field(lookup).db_type(connection)}"
                for lookup, column in self.kept.items()
            )
            return [
                f"CREATE TABLE {q(self.name)} "
                f"(id {pk_type} PRIMARY KEY, vector tsvector NOT NULL{kept})",
                # Serves `vector @@ query`, the match of every ?search=.
                f"CREATE INDEX {q(self.name + '_vector')} ON {q(self.name)} "
                "USING gin (vector)",
            ]
        return [
            f"CREATE VIRTUAL TABLE {q(self.name)} USING fts5"
            "(a, b, c, d, tokenize = 'porter unicode61', prefix = '2 3')"
        ]

    # -- triggers --------------------------------------------------------------

    def _rows(self, side: str, column: str, table: str, columns: list[str]) -> str:
        """SQL of `column` of the NEW or OLD row(s) of a trigger on `table`.

        SQLite's row triggers read the row; PostgreSQL's statement triggers
        the transition tables, and on UPDATE only the rows whose `columns`
        changed.
        """
        if self.vendor != "postgresql":
            return f"SELECT {side}.{q(column)}"
        if not columns:
            rows = "new_rows" if side == "NEW" else "old_rows"
            return f"SELECT {q(column)} FROM {rows}"
        pk = q(_pk_of(table))
        new = ", ".join(f"n.{q(c)}" for c in columns)
        old = ", ".join(f"o.{q(c)}" for c in columns)
        alias = "n" if side == "NEW" else "o"
        return (
            f"SELECT {alias}.{q(column)} FROM new_rows n JOIN old_rows o "
            f"ON o.{pk} = n.{pk} WHERE ROW({new}) IS DISTINCT FROM ROW({old})"
        )

    def _links(self, table: str, column: str, changed: list[str]) -> list[tuple]:
        """Triggers on rows that link to a record through `column`: a new or
        deleted row, or one whose `changed` columns change, refreshes it."""
        both = (
            self._rows("NEW", column, table, changed)
            + " UNION "
            + self._rows("OLD", column, table, changed)
        )
        return [
            (table, "INSERT", [], self._rows("NEW", column, table, []), False),
            (table, "UPDATE", changed, both, False),
            (table, "DELETE", [], self._rows("OLD", column, table, []), False),
        ]

    def watched(self) -> list[tuple[str, str, list[str], str, bool]]:
        """(table, event, columns whose change matters, SQL of the record ids
        affected, whether those records are gone) for each trigger needed."""
        own = [c for _, columns in self.resource.search for c in columns]
        keys = [self.model._meta.get_field(c).column for c in own]
        keys += self.kept.values()  # a record's status change refreshes it
        found = []
        for related in related_of(self.resource):
            model = related.model
            table = model._meta.db_table
            columns = [model._meta.get_field(c).column for c in related.columns]
            pk = model._meta.pk.column
            if related.kind == "fk":
                fk = related.field.column
                found += self._links(table, fk, [*columns, fk])
            elif related.kind == "reverse":
                fk = related.field.field.column
                keys.append(fk)
                ids = (
                    f"SELECT x.{q(self.pk)} FROM {q(self.table)} x WHERE x.{q(fk)} "
                    f"IN ({self._rows('NEW', pk, table, columns)})"
                )
                found.append((table, "UPDATE", columns, ids, False))
            else:
                through, to_related, to_record = related.through(self.model)
                links = [to_related, to_record]
                ids = (
                    f"SELECT x.{q(to_record)} FROM {q(through)} x WHERE "
                    f"x.{q(to_related)} IN ({self._rows('NEW', pk, table, columns)})"
                )
                found += self._links(through, to_record, links)
                found.append((table, "UPDATE", columns, ids, False))
        keys = sorted(set(keys))
        found[:0] = [
            (
                self.table,
                "INSERT",
                [],
                self._rows("NEW", self.pk, self.table, []),
                False,
            ),
            (
                self.table,
                "UPDATE",
                keys,
                self._rows("NEW", self.pk, self.table, keys),
                False,
            ),
            (
                self.table,
                "DELETE",
                [],
                self._rows("OLD", self.pk, self.table, []),
                True,
            ),
        ]
        return found

    def triggers(self) -> list[str]:
        statements = []
        for number, (table, event, columns, ids, gone) in enumerate(self.watched()):
            name = f"{PREFIX}{self.table}_{number}_{event.lower()}"[:63]
            body = self.forget(ids) if gone else self.refresh(ids)
            if self.vendor == "postgresql":
                statements += self._pg_trigger(name, table, event, body)
            else:
                of = f" OF {', '.join(q(c) for c in columns)}" if columns else ""
                statements.append(
                    f"CREATE TRIGGER {q(name)} AFTER {event}{of} ON {q(table)} "
                    f"FOR EACH ROW BEGIN {'; '.join(body)}; END"
                )
        if self.vendor == "postgresql":
            # Django's flush truncates the tables it knows.
            name = f"{PREFIX}{self.table}_truncate"[:63]
            statements += self._pg_trigger(
                name, self.table, "TRUNCATE", [f"DELETE FROM {q(self.name)}"]
            )
        return statements

    @staticmethod
    def _pg_trigger(name: str, table: str, event: str, body: list[str]) -> list[str]:
        referencing = {
            "INSERT": "REFERENCING NEW TABLE AS new_rows ",
            "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
            "DELETE": "REFERENCING OLD TABLE AS old_rows ",
            "TRUNCATE": "",
        }[event]
        return [
            f"CREATE FUNCTION {q(name)}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {'; '.join(body)}; RETURN NULL; END $$",
            f"CREATE TRIGGER {q(name)} AFTER {event} ON {q(table)} {referencing}"
            f"FOR EACH STATEMENT EXECUTE FUNCTION {q(name)}()",
        ]


def _pk_of(table: str) -> str:
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model._meta.pk.column
    raise LookupError(table)


def documents(vendor: str) -> list[Document]:
    return [Document(r, vendor) for r in registry if r.search]


def document_of(model: type[models.Model], vendor: str) -> Document:
    return Document(registry.get(model), vendor)


def schema(vendor: str) -> list[str]:
    """Every statement that creates the documents' tables and triggers."""
    return [
        s
        for document in documents(vendor)
        for s in document.create() + document.triggers()
    ]


def digest(vendor: str) -> str:
    return hashlib.sha256("\n".join(schema(vendor)).encode()).hexdigest()[:16]


def _ours(cursor, vendor: str) -> list[tuple[str, str]]:
    """(kind, name) of every trigger, function, table and index this module
    made (and of the expression indexes an earlier version of it made)."""
    if vendor == "postgresql":
        cursor.execute(
            "SELECT 'function', p.proname FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
            "AND p.proname LIKE 'search\\_%%' "
            "UNION ALL SELECT CASE c.relkind WHEN 'r' THEN 'table' ELSE 'index' END, "
            "c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "
            "((c.relkind = 'r' AND c.relname LIKE '%%\\_fts') OR (c.relkind = 'i' "
            "AND obj_description(c.oid, 'pg_class') LIKE 'her2db search index %%'))"
        )
    else:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE (type = 'trigger' AND name "
            "LIKE 'search\\_%' ESCAPE '\\') OR (type = 'table' AND name LIKE "
            "'%\\_fts' ESCAPE '\\' AND sql LIKE 'CREATE VIRTUAL TABLE%')"
        )
    return cursor.fetchall()


def _drop(cursor, vendor: str, kinds: tuple[str, ...]) -> None:
    for kind, name in _ours(cursor, vendor):
        if kind in kinds:
            suffix = "() CASCADE" if kind == "function" else ""
            cursor.execute(f"DROP {kind.upper()} IF EXISTS {q(name)}{suffix}")


def drop_search_triggers(using: str = "default", plan=None, **kwargs) -> None:
    """Before a migrate that changes anything, drop the triggers (a trigger
    naming a column a migration renames would stop it); post_migrate then
    builds everything anew. Connected to pre_migrate."""
    connection = connections[using]
    if plan and connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cursor:
            # PostgreSQL's triggers go with their functions.
            _drop(cursor, connection.vendor, ("trigger", "function"))


def sync_search_indexes(using: str = "default", force: bool = False, **kwargs):
    """Build the documents' tables and triggers, and fill them, when the
    registry asks for others than those in place or a migrate applied
    anything (`plan`); returns the tables built. Connected to post_migrate.
    """
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return []
    wanted = digest(vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
            "(name varchar(40) PRIMARY KEY, digest varchar(40) NOT NULL)"
        )
        cursor.execute(f"SELECT digest FROM {STATE_TABLE} WHERE name = 'documents'")
        found = cursor.fetchone()
        if found and found[0] == wanted and not force and not kwargs.get("plan"):
            return []
        _drop(cursor, vendor, ("trigger", "function", "table", "index"))
        built = []
        for document in documents(vendor):
            for statement in document.create() + document.triggers():
                cursor.execute(statement)
            for statement in document.refresh(None):
                cursor.execute(statement)
            built.append(document.name)
        if vendor == "postgresql":
            for name in built:
                cursor.execute(f"ANALYZE {q(name)}")
        cursor.execute(f"DELETE FROM {STATE_TABLE} WHERE name = 'documents'")
        cursor.execute(
            f"INSERT INTO {STATE_TABLE} (name, digest) VALUES ('documents', %s)",
            [wanted],
        )
        data_version.advance(cursor)  # what a search finds may have changed
    return built
