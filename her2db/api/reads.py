"""Reading lists as values: what a serializer shows, made from `values()` rows.

A page of a list is read without model instances: one query for the page's
rows (the view's own queryset, filters, ordering and annotations, asked for
the columns the serializer shows), one for each to-many relation it shows,
and the JSON written from those rows. Model instances, related managers and
DRF's per-field machinery cost more than the queries for a page of rows
(`make bench` measures the difference against the floor).

What to read is worked out once per serializer from its declarations: its
`Meta.fields` and field types, the summaries' `names`, `key` and `basename`,
the relations' models and orderings, the queryset's annotations. A field
that reads something else says so itself:

- `values_lookup`: the column to show, when its source is a relation
  (an outcome arm's label, "arm__label");
- `values_relation`: the model's to-many relation a list field shows, when
  its source is a method (a citation's authors, "authors");
- `from_values(row, related)` and `values_needs`: a field computed in Python
  from the row and its relations' rows (an evidence item's warnings), with
  the columns it reads on those relations ({"citations": [...]}).

A serializer with a field the plan cannot read (`plan_for` gives None) is
served by its serializer as before; a test compares both paths on every
endpoint. The benchmark's floor (tests/bench/floor.py) runs the same plans
on hand-compiled SQL.

Queries that differ from one request to the next only in their parameters
are built and compiled once and run again (building and compiling a query
costs more than running it on a page of rows):

- a relation's rows, by the ids of the page (`CompiledValues`);
- a record, by its key (`Records`), for each view and reader variant;
- an unfiltered list (`CompiledList`): its count, and its pages by LIMIT and
  OFFSET, for each view and reader variant.
"""

from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import DateTimeField, UUIDField
from rest_framework import serializers
from rest_framework.settings import api_settings

from .fields import LinkField, Summary, SummaryRelatedField, resource_url
from .serializers import PLAIN_FIELDS, PlainFieldsMixin, utc_stamp


class Unreadable(LookupError):
    """A field the plan cannot make from values."""


def decimal_writer(api_field) -> Callable:
    """DRF's DecimalField.to_representation, without quantizing a value that
    already has the field's decimal places (as the database gives them)."""
    places = -api_field.decimal_places
    as_text = getattr(
        api_field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING
    )
    slow = api_field.to_representation

    def write(value):
        if type(value) is Decimal and value.as_tuple().exponent == places:
            return format(value, "f") if as_text else value
        return slow(value)

    return write


class Values:
    """How values as Django's `values()` returns them are read and written."""

    def writer(self, api_field) -> Callable | None:
        """How to write a column's value as `api_field` does (None: as it is)."""
        # The serializers' own short cut: a plain value, or a UTC stamp.
        attribute, stamp = PlainFieldsMixin.short_cut(api_field)
        if type(api_field) in PLAIN_FIELDS:
            return None
        if attribute is not None and stamp:
            slow = api_field.to_representation
            # No offset: UTC, aware or (CompiledValues `naive`) not.
            return lambda value: slow(value) if value.utcoffset() else utc_stamp(value)
        if type(api_field) is serializers.DecimalField:
            return decimal_writer(api_field)
        if isinstance(api_field, serializers.Field):
            return api_field.to_representation
        raise Unreadable(f"no writer for {type(api_field).__name__}")

    def uid(self, value) -> str:
        return str(value)

    def __init__(self):
        # A relation's query differs only in its ids: compiled once for each
        # database and number of ids (at most the largest page's).
        self.compiled: dict[tuple, CompiledValues | None] = {}

    def rows(self, relation: "Relation", ids: list) -> list[dict]:
        alias = router.db_for_read(relation.link)
        key = (relation, alias, len(ids))
        compiled = self.compiled.get(key, False)
        if compiled is False:
            compiled = self.compiled[key] = CompiledValues.of(
                relation.queryset(ids).using(alias),
                ids,
                getattr(relation.plan, "naive", frozenset()),
            )
        if compiled is None:
            return list(relation.queryset(ids).using(alias))
        return compiled.rows(ids)


class CompiledValues:
    """A `values()` query whose only parameters are ids, compiled once and run
    again with other ids: the rows as `values()` gives them (Django's value
    converters applied), without building and compiling the query again.

    `naive` names UTC timestamp columns whose writer takes a naive datetime
    as UTC (Values.writer): on SQLite, with the connection's time zone UTC,
    they are read as its driver gives them, without Django's converter
    making each aware (which cost more than the query)."""

    def __init__(self, queryset, naive=frozenset()):
        query = queryset.query
        self.alias = queryset.db
        self.compiler = query.get_compiler(self.alias)
        self.sql, self.params = self.compiler.as_sql()
        columns = [expression for expression, _, _ in self.compiler.select]
        self.converters = self.compiler.get_converters(columns)
        # As Django's ValuesIterable names the columns.
        self.names = list(
            query.selected or [*query.values_select, *query.annotation_select]
        )
        connection = self.compiler.connection
        if (
            naive
            and connection.vendor == "sqlite"
            and connection.timezone_name == "UTC"
        ):
            for place, name in enumerate(self.names):
                if name in naive and isinstance(
                    columns[place].output_field, DateTimeField
                ):
                    self.converters.pop(place, None)

    @classmethod
    def of(cls, queryset, ids: list, naive=frozenset()) -> "CompiledValues | None":
        """The compiled query, or None if it binds more than the ids."""
        compiled = cls(queryset, naive)
        return compiled if list(compiled.params) == list(ids) else None

    def rows(self, params: list, sql: str | None = None) -> list[dict]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql or self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


VALUES = Values()


class Records:
    """One object's row, by the field a view looks records up by: its query
    compiled once for each view and variant (what the reader may see), and run
    again with the next record's key in place of the first's."""

    def __init__(self):
        self.compiled: dict[tuple, CompiledValues] = {}

    @staticmethod
    def key_param(queryset, name: str, value):
        """The key as the database receives it in `name = %s`, or None for a
        value the field refuses (then the query is built as usual)."""
        meta = queryset.model._meta
        field = meta.pk if name == "pk" else meta.get_field(name)
        try:
            prepared = field.get_prep_value(value)
            return field.get_db_prep_value(
                prepared, connections[queryset.db], prepared=True
            )
        except (TypeError, ValueError, ValidationError):
            return None

    def rows(self, variant: tuple, queryset, plan: "Plan", lookup: dict) -> list:
        """`values(*plan.columns)` of the rows of `queryset` whose single
        `lookup` matches, at most two; `variant` names what else shapes the
        query."""
        columns = plan.columns
        ((name, value),) = lookup.items()

        def built():
            return queryset.filter(**lookup).prefetch_related(None).values(*columns)[:2]

        param = self.key_param(queryset, name, value)
        if param is None:
            return list(built())
        key = (*variant, name, queryset.db)
        compiled = self.compiled.get(key)
        if compiled is None:
            found = built()
            compiled = CompiledValues(found, plan.naive)
            # The key's place among the parameters: exactly one holds it (a
            # constant of the query that happens to equal it is ambiguous).
            places = [
                place
                for place, given in enumerate(compiled.params)
                if type(given) is type(param) and given == param
            ]
            if len(places) != 1:
                return list(found)
            compiled.key_place = places[0]
            self.compiled[key] = compiled
        params = list(compiled.params)
        params[compiled.key_place] = param
        return compiled.rows(params)


RECORDS = Records()


class CompiledList:
    """An ordered `values()` query as a paginator pages it, compiled once:
    `count()` runs the count Django made for it, a slice runs the query with
    LIMIT and OFFSET as parameters. For a list read with nothing that shapes
    its query but the view and the reader (no filter, search or ordering)."""

    ordered = True  # as the paginator asks of a queryset

    def __init__(self, queryset, naive=frozenset()):
        self.query = CompiledValues(queryset, naive)
        self.paged = f"{self.query.sql} LIMIT %s OFFSET %s"
        self.queryset = queryset  # until its count has been run once
        self.counting = None

    def count(self) -> int:
        """The rows counted: the first time by Django, recording its query."""
        if self.counting is None:
            captured = []

            def capture(execute, sql, params, many, context):
                captured.append((sql, list(params or ())))
                return execute(sql, params, many, context)

            with connections[self.query.alias].execute_wrapper(capture):
                counted = self.queryset.count()
            (self.counting,) = captured
            return counted
        with connections[self.query.alias].cursor() as cursor:
            cursor.execute(*self.counting)
            return cursor.fetchone()[0]

    def __getitem__(self, part: slice) -> list[dict]:
        start = part.start or 0
        params = [*self.query.params, part.stop - start, start]
        return self.query.rows(params, self.paged)


def column(name: str, write: Callable | None) -> Callable:
    if write is None:
        return lambda row, found: row[name]
    return lambda row, found: None if row[name] is None else write(row[name])


class SummaryPlan:
    """A related resource in brief, as `summary` (a `Summary`) declares it."""

    def __init__(self, summary: type[Summary], path: str):
        self.pairs = [(name, path + name) for name in summary.names]
        self.key = path + summary.key
        self.basename = summary.basename
        self.columns = [self.key, *(lookup for _, lookup in self.pairs)]

    def make(self, row, found) -> dict | None:
        key = row[self.key]
        if key is None:
            return None
        data = {name: row[lookup] for name, lookup in self.pairs}
        data["url"] = f"{found['prefixes'][self.basename]}{key}/"
        return data

    def build(self, rows, found) -> list:
        return [self.make(row, found) for row in rows]


class Relation:
    """The rows of a to-many relation of a page's objects, in the API's order."""

    def __init__(self, model, name: str, plan_for: Callable, extra=()):
        relation = model._meta.get_field(name)
        if relation.one_to_many:
            self.link, self.key, path = relation.related_model, relation.field.name, ""
        elif relation.many_to_many and relation.concrete:
            self.link = relation.remote_field.through
            self.key = relation.m2m_field_name()
            path = relation.m2m_reverse_field_name() + "__"
        elif relation.many_to_many:
            self.link = relation.through
            self.key = relation.field.m2m_reverse_field_name()
            path = relation.field.m2m_field_name() + "__"
        else:
            raise Unreadable(f"{model.__name__}.{name} is not a to-many relation")
        # The link's own order less the object it belongs to: the order the
        # API's relations are shown in.
        self.ordering = [o for o in self.link._meta.ordering if o != self.key]
        self.plan = plan_for(self.link if not path else relation.related_model, path)
        self.columns = list(dict.fromkeys([self.key, *self.plan.columns, *extra]))

    def queryset(self, ids: list):
        return (
            self.link._base_manager.filter(**{f"{self.key}__in": ids})
            .order_by(*self.ordering)
            .values(*self.columns)
        )

    def fetch(self, ids: list, reader, found) -> tuple[dict, dict]:
        """(what each object shows, the rows it was made of), by object id."""
        rows = reader.rows(self, ids)
        shown, raw = {}, {}
        for row, data in zip(rows, self.plan.build(rows, found), strict=True):
            shown.setdefault(row[self.key], []).append(data)
            raw.setdefault(row[self.key], []).append(row)
        return shown, raw


class Plan:
    """How to make what `serializer` shows of an object from `values()` rows.

    `annotations` are the names the queryset computes (counts), read as
    columns; `reader` says how the values come (Django's `values()`, or the
    benchmark's floor reading the driver's values itself).
    """

    def __init__(
        self, serializer, model, path: str = "", annotations=(), reader=VALUES
    ):
        self.model, self.path, self.reader = model, path, reader
        self.annotations = set(annotations)
        self.pk = path + "pk"
        self.columns = [self.pk]
        self.relations: dict[str, Relation] = {}
        self.basenames: set[str] = set()
        # Columns computed fields read on the relations' rows, by field name.
        self.needs: dict[str, list[str]] = {}
        self.steps = []
        self.naive, self.opaque = set(), False
        # Fields a view shows only sometimes (`shown_in(context)`): the plan
        # leaves them out, and is not used where one is shown.
        self.absent = []
        for name, api_field in serializer.fields.items():
            if getattr(api_field, "sometimes_absent", False):
                self.absent.append(api_field)
                continue
            try:
                step = self.step(name, api_field)
            except Unreadable as error:
                raise Unreadable(
                    f"{type(serializer).__name__}.{name}: {error}"
                ) from None
            self.steps.append((name, step))
        self.columns = list(dict.fromkeys(self.columns))
        # Timestamps read naive (CompiledValues): none where a computed
        # field or a property might read the row itself.
        if self.opaque:
            self.naive = frozenset()
        for name, columns in self.needs.items():
            relation = self.relations[name]
            relation.columns = list(dict.fromkeys([*relation.columns, *columns]))

    def step(self, name: str, api_field) -> Callable:
        source = api_field.source
        if hasattr(api_field, "from_values"):
            self.opaque = True
            for relation, columns in getattr(api_field, "values_needs", {}).items():
                self.needs.setdefault(relation, []).extend(columns)
            return api_field.from_values
        if name in self.annotations:
            self.columns.append(name)
            return column(name, None)
        if isinstance(api_field, LinkField):
            key = self.path + api_field.key
            self.columns.append(key)
            self.basenames.add(basename := api_field.basename)
            uid = self.reader.uid
            if isinstance(self.model._meta.get_field(api_field.key), UUIDField):
                return lambda row, found: (
                    f"{found['prefixes'][basename]}{uid(row[key])}/"
                )
            return lambda row, found: f"{found['prefixes'][basename]}{row[key]}/"
        if isinstance(api_field, SummaryRelatedField):
            summary = SummaryPlan(api_field.summary_class, f"{self.path}{source}__")
            self.basenames.add(summary.basename)
            self.columns += summary.columns
            return summary.make
        if isinstance(api_field, serializers.ManyRelatedField):
            child = api_field.child_relation.summary_class
            return self.relation(
                name, source, lambda model, path: self.summary(child, path)
            )
        if isinstance(api_field, serializers.ListSerializer):
            child = api_field.child
            source = getattr(api_field, "values_relation", source)
            if isinstance(child, Summary):
                return self.relation(
                    name, source, lambda model, path: self.summary(type(child), path)
                )
            return self.relation(
                name,
                source,
                lambda model, path: self.nested(child, model, path),
            )
        lookup = getattr(api_field, "values_lookup", None)
        if lookup:
            self.columns.append(self.path + lookup)
            return column(self.path + lookup, None)
        concrete = {f.name for f in self.model._meta.concrete_fields}
        if source in concrete:
            self.columns.append(self.path + source)
            if PlainFieldsMixin.short_cut(api_field)[1]:
                self.naive.add(self.path + source)
            return column(self.path + source, self.reader.writer(api_field))
        value = getattr(self.model, source, None)
        if isinstance(value, property) and not self.path:
            self.opaque = True
            return lambda row, found: value.fget(SimpleNamespace(**row))
        raise Unreadable("not a column, relation, property, count or computed field")

    def summary(self, summary: type[Summary], path: str) -> SummaryPlan:
        plan = SummaryPlan(summary, path)
        self.basenames.add(plan.basename)
        return plan

    def nested(self, child, model, path: str) -> "Plan":
        plan = Plan(child, model, path, reader=self.reader)
        self.basenames |= plan.basenames
        return plan

    def leaves_out(self, context: dict) -> bool:
        """Would the serializer show, in `context`, a field the plan leaves out?"""
        return any(api_field.shown_in(context) for api_field in self.absent)

    def relation(self, name: str, source: str, plan_for: Callable) -> Callable:
        if self.path:
            raise Unreadable("a relation of a relation's object")
        self.relations[name] = Relation(self.model, source, plan_for)
        pk = self.pk
        return lambda row, found: found[name].get(row[pk], [])

    def build(self, rows: list[dict], found: dict) -> list[dict]:
        if self.relations and rows:
            ids = [row[self.pk] for row in rows]
            for name, relation in self.relations.items():
                found[name], found[f"{name} rows"] = relation.fetch(
                    ids, self.reader, found
                )
        steps = self.steps
        return [{name: step(row, found) for name, step in steps} for row in rows]

    def prefixes(self, request) -> dict:
        """The URL prefix of each resource the plan links to, for `build`."""
        return {
            name: resource_url(request, name, "").removesuffix("/")
            for name in self.basenames
        }

    def represent(self, rows: list[dict], request) -> list[dict]:
        """What the serializer shows of each of `rows` (from `values(*columns)`)."""
        return self.build(rows, {"prefixes": self.prefixes(request)})


_PLANS: dict = {}


def plan_for(serializer_class, queryset) -> Plan | None:
    """The plan of `serializer_class` over `queryset`'s annotations, or None
    when one of its fields cannot be read from values."""
    annotations = tuple(sorted(queryset.query.annotations))
    key = (serializer_class, annotations)
    if key not in _PLANS:
        try:
            _PLANS[key] = Plan(
                serializer_class(),
                serializer_class.Meta.model,
                annotations=annotations,
            )
        except Unreadable:
            _PLANS[key] = None
    return _PLANS[key]
