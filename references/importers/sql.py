"""The hand-written SQL the importers keep, where ``make bench-import``
showed it is needed. Each field type it writes has a test in
tests/references/test_importers_sql.py, against what the ORM writes.

Write rate of 2,000 generated PubMed records in one process (9 author links
and about 3 new authors a record), measured next to the hand-written writer
this replaced, on the same loaded machine (~620 and, later, ~1,100/s):

- everything through ``bulk_create_with_history``: ~180/s;
- the author links' history copied by the database: ~260/s;
- every import's history copied: ~430/s;
- the change feed's entries inserted here: ~500/s (later ~670/s);
- the new authors inserted here too: ~1,050/s.

So citations (one a record, with ``Citation.normalise()`` and validation)
go in with ``bulk_create``; new authors (validated), the author links of new
citations and the change feed's entries are inserted here, and every
import's "created" history rows are copied here.

- ``copy_created_history``: "created" history rows copied by the database,
  INSERT ... SELECT. simple-history's ``bulk_history_create`` builds a
  historical instance per row in Python and Django compiles each value.
  The SELECT is the ORM's own, so Django converts the constants and the
  copied columns keep their stored values.
- ``insert_rows``: an executemany of new rows, values prepared once each
  (``read_back_pks`` finds their keys when they are needed).

``WrittenIds`` keeps an import's citation ids in a temporary table, for
memory rather than speed.
"""

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache, partial

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.models import Q, Value
from django.utils import timezone

from her2db.operations import current_id
from references.models import Citation


def copy_created_history(
    model: type[models.Model],
    rows: Q,
    when: datetime,
    reason: str,
    user_id: int | None,
    using: str,
) -> None:
    """INSERT the "created" history rows of the rows of ``model`` that
    ``rows`` selects, with one INSERT ... SELECT."""
    history = model.history.model
    tracked = {field.attname for field in history.tracked_fields}
    extra = {
        "history_date": Value(when, output_field=models.DateTimeField()),
        "history_change_reason": Value(reason, output_field=models.TextField()),
        "history_type": Value("+", output_field=models.CharField()),
        "history_user_id": Value(user_id, output_field=models.IntegerField()),
        "operation": Value(current_id(), output_field=models.UUIDField()),
    }
    columns = [f for f in history._meta.concrete_fields if not f.primary_key]
    unknown = [f.attname for f in columns if f.attname not in tracked | extra.keys()]
    if unknown:
        raise ImproperlyConfigured(
            f"{history.__name__} has columns an import cannot fill: {unknown}"
        )
    select = (
        model._default_manager.using(using)
        .filter(rows)
        .order_by()
        .annotate(**extra)
        .values_list(*(f.attname for f in columns))
    )
    sql, params = select.query.sql_with_params()
    quote = connections[using].ops.quote_name
    insert = "INSERT INTO {} ({}) ".format(
        quote(history._meta.db_table), ", ".join(quote(f.column) for f in columns)
    )
    with connections[using].cursor() as cursor:
        cursor.execute(insert + sql, params)


# Stored types insert_rows takes as they are (a foreign key stores its
# target's type): their Python values, int, bool and str, are what every
# database adapter takes.
PLAIN_TYPES = frozenset(
    {"BigAutoField", "BooleanField", "CharField", "PositiveSmallIntegerField"}
)
# ... and those it converts as a save() would (get_db_prep_save).
CONVERTED_TYPES = frozenset({"DateTimeField", "JSONField", "UUIDField"})
BATCH = 500


def insert_rows(model: type[models.Model], objs: Iterable, using: str) -> None:
    """INSERT new instances, a batch a query, without reading their primary
    keys back; only for models whose columns are all of the types above."""
    connection = connections[using]
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    other = [
        f.attname
        for f in columns
        if stored_type(f) not in PLAIN_TYPES | CONVERTED_TYPES
    ]
    if other:
        raise ImproperlyConfigured(
            f"insert_rows cannot write {other} of {model.__name__}; use bulk_create."
        )
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in columns),
        ", ".join(["%s"] * len(columns)),
    )
    converters = []
    for f in columns:
        convert = None
        if stored_type(f) in CONVERTED_TYPES:
            convert = partial(f.get_db_prep_save, connection=connection)
        if stored_type(f) == "DateTimeField":
            # A batch's rows share their times: convert each time once.
            convert = lru_cache(maxsize=64)(convert)
        converters.append((f.attname, convert))
    now = timezone.now()  # auto_now fields: one time for rows that go in together
    stamped = [
        f.attname
        for f in columns
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for name in stamped:
            setattr(obj, name, now)
    rows = [
        [
            getattr(obj, name) if convert is None else convert(getattr(obj, name))
            for name, convert in converters
        ]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def stored_type(field: models.Field) -> str:
    """The field's type as stored: a foreign key stores its target's."""
    while field.is_relation:
        field = field.target_field
    return field.get_internal_type()


def read_back_pks(
    model: type[models.Model], objs: list, key: tuple[str, ...], using: str
) -> None:
    """Set the primary keys of just-inserted objects, found by unique ``key``."""
    first = key[0]
    found = {
        tuple(row[:-1]): row[-1]
        for row in model._default_manager.using(using)
        .filter(**{f"{first}__in": {getattr(obj, first) for obj in objs}})
        .values_list(*key, "pk")
    }
    for obj in objs:
        obj.pk = found[tuple(getattr(obj, name) for name in key)]
        obj._state.adding = False
        obj._state.db = using


WRITTEN_TABLE = "her2db_import_written"


class WrittenIds:
    """The ids of the citations an import has written or found up to date.

    Kept in a temporary table of the import's transaction, not in memory, so
    that an import's memory does not grow with its file. The table goes
    with the transaction if the import fails, and is dropped when it ends.
    """

    def __init__(self):
        self.using = router.db_for_write(Citation)
        self.exists = False

    def add(self, ids: Iterable[int]) -> None:
        rows = [(pk,) for pk in ids if pk is not None]
        if not rows:
            return
        with connections[self.using].cursor() as cursor:
            if not self.exists:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {WRITTEN_TABLE} (id bigint PRIMARY KEY)"
                )
                self.exists = True
            cursor.executemany(
                f"INSERT INTO {WRITTEN_TABLE} (id) VALUES (%s) ON CONFLICT DO NOTHING",
                rows,
            )

    def among(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` that are in the set."""
        ids = [pk for pk in ids if pk is not None]
        if not self.exists or not ids:
            return set()
        found = set()
        with connections[self.using].cursor() as cursor:
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT id FROM {WRITTEN_TABLE} WHERE id IN ({marks})", batch
                )
                found.update(pk for (pk,) in cursor.fetchall())
        return found

    def drop(self) -> None:
        if self.exists:
            with connections[self.using].cursor() as cursor:
                cursor.execute(f"DROP TABLE {WRITTEN_TABLE}")
            self.exists = False
