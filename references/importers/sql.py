"""The hand-written SQL the importers keep, where ``make bench-import``
showed it is needed. Each field type it writes has a test in
tests/importers/test_sql.py, against what the ORM writes.

Write rate of 2,000 generated PubMed records in one process, on the same
loaded machine, next to the hand-written writer this replaced (~620/s):
everything through ``bulk_create_with_history``: ~180/s; with the author
links' history copied by the database: ~260/s; with every import's history
copied: ~430/s; with the change feed's entries inserted here too: ~500/s.
Citations and authors go in with ``bulk_create`` (with the models'
normalisation and validation before it); only rows nobody validates are
written here.

- ``copy_created_history``: "created" history rows copied by the database,
  INSERT ... SELECT. simple-history's ``bulk_history_create`` builds a
  historical instance per row in Python and Django compiles each value.
  The SELECT is the ORM's own, so Django converts the constants and the
  copied columns keep their stored values.
- ``insert_rows``: an executemany of new rows without reading their keys
  back, for the author links of new citations (nine a record) and the
  change feed's entries.
"""

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from django.db.models import Q, Value


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
# target's type): their Python values, int and str, are what every database
# adapter takes.
PLAIN_TYPES = frozenset({"BigAutoField", "CharField", "PositiveSmallIntegerField"})
# ... and those it converts as a save() would (get_db_prep_save).
CONVERTED_TYPES = frozenset({"DateTimeField", "JSONField"})
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
    converters = [
        (f.attname, None)
        if stored_type(f) in PLAIN_TYPES
        else (f.attname, partial(f.get_db_prep_save, connection=connection))
        for f in columns
    ]
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
