"""The floor: each list page the API serves, made the cheapest way we know.

The same rows and the same bytes as the API, from one query for the count,
one for the page and one for each to-many relation it shows (as the API's
prefetches do), and orjson; without the API's machinery: no middleware,
view, filter set, paginator, serializer, model instance or Django value
converter. Each query is a `values()` queryset compiled to SQL once and then
run on the cursor as hand-written SQL would be (compiling costs more than
running a query for a small page), its values written from what the driver
returns. Where the API computes in SQL the floor runs the same expressions:
the counts through therapies.views.count_of, the search through
her2db.api.search on the registry's search columns.

What to fetch is read from the declarations the API uses: each serializer's
`Meta.fields` and field types, the summaries' `names`, `key` and `basename`,
the relations' models and orderings, the filter sets' search columns. So a
new column is fetched on its own, and a field the floor cannot tell how to
make stops the benchmark (and the suite) with its name. What is written out
by hand is in RESOURCES at the end: the counts and the evidence's warnings.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace
from uuid import UUID

import orjson
from django.db import connections
from django.db.models import UUIDField
from rest_framework import serializers

from her2db.api.fields import LinkField, Summary, SummaryRelatedField
from her2db.api.search import search
from her2db.registry import registry
from references.models import Citation
from references.serializers import CitationSerializer
from therapies.models import (
    Agent,
    Evidence,
    EvidenceAgent,
    EvidenceTrial,
    Mechanism,
    Target,
    Trial,
    TrialArmAgent,
)
from therapies.serializers import (
    AgentSerializer,
    CommaListField,
    EvidenceSerializer,
    MechanismSerializer,
    TargetSerializer,
    TrialSerializer,
)
from therapies.views import count_of

HOST = "http://localhost"
API = f"{HOST}/api/v1"


def stamp(value) -> str:
    """A UTC timestamp as DRF writes it, from SQLite's text or a datetime."""
    if isinstance(value, str):
        return value.replace(" ", "T") + "Z"
    return value.isoformat().removesuffix("+00:00") + "Z"


def day(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def uid(value) -> str:
    return str(value if isinstance(value, UUID) else UUID(value))


def comma_list(value) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# How a value as the database driver returns it is written for each type of
# serializer field; text and numbers go as they are.
WRITERS = {
    serializers.DateTimeField: stamp,
    serializers.DateField: day,
    serializers.UUIDField: uid,
    serializers.BooleanField: bool,  # SQLite: 0 or 1
    CommaListField: comma_list,
}
PLAIN = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField)


def writer(api_field) -> Callable | None:
    """How to write a column's value as `api_field` does (None: as it is)."""
    if isinstance(api_field, serializers.DecimalField):
        places = api_field.decimal_places
        return lambda value: f"{value:.{places}f}"
    for kind, write in WRITERS.items():
        if isinstance(api_field, kind):
            return write
    if isinstance(api_field, PLAIN):
        return None
    raise LookupError(f"no writer for {type(api_field).__name__}")


def column(name: str, write: Callable | None) -> Callable:
    if write is None:
        return lambda row, found: row[name]
    return lambda row, found: None if row[name] is None else write(row[name])


class Compiled:
    """A `values()` queryset compiled once, to run again with other parameters."""

    def __init__(self, queryset):
        query = queryset.query
        self.db = queryset.db
        self.sql, self.params = query.get_compiler(self.db).as_sql()
        # As Django's ValuesIterable names the columns.
        self.names = list(
            query.selected or [*query.values_select, *query.annotation_select]
        )

    def rows(self, params=None) -> list[dict]:
        """The rows as the driver returns their values (see WRITERS)."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params if params is None else params)
            rows = cursor.fetchall()
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]

    def count(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) counted", self.params)
            return cursor.fetchone()[0]


class SummaryPlan:
    """A related resource in brief, as `summary` (a `Summary`) declares it."""

    def __init__(self, summary: type[Summary], path: str):
        self.pairs = [(name, path + name) for name in summary.names]
        self.key = path + summary.key
        self.prefix = f"{API}/{summary.basename}/"
        self.columns = [self.key, *(lookup for _, lookup in self.pairs)]

    def make(self, row) -> dict | None:
        if row[self.key] is None:
            return None
        data = {name: row[lookup] for name, lookup in self.pairs}
        data["url"] = f"{self.prefix}{row[self.key]}/"
        return data

    def build(self, rows) -> list:
        return [self.make(row) for row in rows]


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
            raise LookupError(f"{model.__name__}.{name} is not a to-many relation")
        # The link's own order less the object it belongs to: what a prefetch
        # of the relation gives when the API orders it as the model does.
        self.ordering = [o for o in self.link._meta.ordering if o != self.key]
        self.plan = plan_for(self.link if not path else relation.related_model, path)
        self.columns = list(dict.fromkeys([self.key, *self.plan.columns, *extra]))
        self.compiled = {}  # by the number of ids

    def fetch(self, ids: list) -> tuple[dict, dict]:
        """(what each object shows, the rows it was made of), by object id."""
        compiled = self.compiled.get(len(ids))
        if compiled is None:
            compiled = self.compiled[len(ids)] = Compiled(
                self.link._base_manager.filter(**{f"{self.key}__in": ids})
                .order_by(*self.ordering)
                .values(*self.columns)
            )
            if list(compiled.params) != list(ids):
                raise LookupError(f"{self.link.__name__}: more than ids to bind")
        rows = compiled.rows(ids)
        shown, raw = {}, {}
        for row, data in zip(rows, self.plan.build(rows), strict=True):
            shown.setdefault(row[self.key], []).append(data)
            raw.setdefault(row[self.key], []).append(row)
        return shown, raw


class Plan:
    """How to make what `serializer` shows of an object from `values()` rows."""

    def __init__(self, serializer, model, path: str = "", resource=None):
        self.model, self.path = model, path
        self.resource = resource or Resource(type(serializer), None)
        self.pk = path + "pk"
        self.columns = [self.pk]
        self.relations: dict[str, Relation] = {}
        self.steps = []
        for name, api_field in serializer.fields.items():
            if getattr(api_field, "sometimes_absent", False):
                continue  # absent from lists, the only pages the floor makes
            try:
                step = self.step(name, api_field)
            except LookupError as error:
                raise LookupError(
                    f"The floor cannot make {type(serializer).__name__}.{name}: "
                    f"{error}. Teach tests/bench/floor.py how the API does."
                ) from None
            self.steps.append((name, step))
        self.columns = list(dict.fromkeys(self.columns))

    def step(self, name: str, api_field) -> Callable:
        source = api_field.source
        if name in self.resource.computed:
            return self.resource.computed[name]
        if name in self.resource.annotations:
            self.columns.append(name)
            return column(name, None)
        if isinstance(api_field, LinkField):
            self.columns.append(self.path + api_field.key)
            prefix, key = f"{API}/{api_field.basename}/", self.path + api_field.key
            if isinstance(self.model._meta.get_field(api_field.key), UUIDField):
                return lambda row, found: f"{prefix}{uid(row[key])}/"
            return lambda row, found: f"{prefix}{row[key]}/"
        if isinstance(api_field, SummaryRelatedField):
            summary = SummaryPlan(api_field.summary_class, f"{self.path}{source}__")
            self.columns += summary.columns
            return lambda row, found: summary.make(row)
        if isinstance(api_field, serializers.ManyRelatedField):
            child = api_field.child_relation.summary_class
            return self.relation(
                name, source, lambda model, path: SummaryPlan(child, path)
            )
        if isinstance(api_field, serializers.ListSerializer):
            child = api_field.child
            if isinstance(child, Summary):
                return self.relation(
                    name, source, lambda model, path: SummaryPlan(type(child), path)
                )
            return self.relation(
                name, source, lambda model, path: Plan(child, model, path)
            )
        concrete = {f.name for f in self.model._meta.concrete_fields}
        if source in concrete:
            self.columns.append(self.path + source)
            return column(self.path + source, writer(api_field))
        value = getattr(self.model, source, None)
        if isinstance(value, property) and not self.path:
            return lambda row, found: value.fget(SimpleNamespace(**row))
        raise LookupError("not a column, relation, property, count or computed field")

    def relation(self, name: str, source: str, plan_for: Callable) -> Callable:
        if self.path:
            raise LookupError("a relation of a relation's object")
        extra = self.resource.hidden.get(name, ())
        source = self.resource.relations.get(name, source)
        self.relations[name] = Relation(self.model, source, plan_for, extra)
        pk = self.pk
        return lambda row, found: found[name].get(row[pk], [])

    def build(self, rows: list[dict]) -> list[dict]:
        found = {}
        if self.relations and rows:
            ids = [row[self.pk] for row in rows]
            for name, relation in self.relations.items():
                found[name], found[f"{name} rows"] = relation.fetch(ids)
        steps = self.steps
        return [{name: step(row, found) for name, step in steps} for row in rows]


@dataclass
class Resource:
    """What the floor needs to know of a list beyond its serializer."""

    serializer: type
    rows: Callable | None  # the objects the list shows, in the API's order
    # API fields counted in SQL, with the same expressions as the API's.
    annotations: dict = field(default_factory=dict)
    # Fields worked out in Python: function(row, related rows) -> value.
    computed: dict = field(default_factory=dict)
    # Columns `computed` reads on a relation's rows, by field name.
    hidden: dict = field(default_factory=dict)
    # Fields whose source is not the relation they show, with the relation.
    relations: dict = field(default_factory=dict)
    # The count's and the page's queries by (page size, search word).
    queries: dict = field(default_factory=dict, repr=False)

    @cached_property
    def plan(self) -> Plan:
        return Plan(self.serializer(), self.serializer.Meta.model, resource=self)

    def page(self, url: str, size: int, word: str = "") -> bytes:
        """The JSON of the first page of `size` rows at `url` (?search=`word`)."""
        counted, page = self.compiled(size, word)
        count = counted.count()
        return orjson.dumps(
            {
                "count": count,
                "next": next_page(url) if count > size else None,
                "previous": None,
                "results": self.plan.build(page.rows()),
            }
        )

    def compiled(self, size: int, word: str) -> tuple[Compiled, Compiled]:
        """The queries for the count and the page, compiled the first time."""
        if (size, word) not in self.queries:
            rows = self.rows()
            if word:
                rows = search(rows, word)
            self.queries[size, word] = (
                Compiled(rows.order_by().values("pk")),
                Compiled(
                    rows.annotate(**self.annotations).values(*self.plan.columns)[:size]
                ),
            )
        return self.queries[size, word]


def next_page(url: str) -> str:
    """`url` with ?page=2, as DRF writes it (parameters in order)."""
    base, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&")) if query else {}
    params["page"] = "2"
    return f"{HOST}{base}?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def warnings(row, found) -> list[str]:
    """As EvidenceSerializer.get_warnings words them, from the citation rows."""
    return [
        f"Cites a retracted paper ({link['citation__citekey']}); no curator has "
        "reviewed this claim since."
        for link in found["citations rows"].get(row["pk"], ())
        if link["citation__retracted"] and not link["retraction_reviewed"]
    ]


def accepted(rows, path: str = "evidence__"):
    """What an anonymous reader sees of the evidence (the registry's rule)."""
    return rows.filter(**registry.public_lookups(Evidence, path))


RESOURCES = {
    "agents": Resource(
        AgentSerializer,
        Agent.objects.all,
        annotations={
            "evidence_count": count_of(accepted(EvidenceAgent.objects), "agent"),
            "trial_count": count_of(
                TrialArmAgent.objects.all(), "agent", "arm__trial", distinct=True
            ),
        },
    ),
    "targets": Resource(TargetSerializer, Target.objects.all),
    "mechanisms": Resource(
        MechanismSerializer,
        Mechanism.objects.all,
        annotations={
            "evidence_count": count_of(accepted(Evidence.objects, ""), "mechanism")
        },
    ),
    "trials": Resource(
        TrialSerializer,
        Trial.objects.all,
        annotations={
            "evidence_count": count_of(accepted(EvidenceTrial.objects), "trial")
        },
    ),
    "evidence": Resource(
        EvidenceSerializer,
        Evidence.objects.accepted,
        computed={"warnings": warnings},
        hidden={"citations": ["citation__retracted"]},
    ),
    "citations": Resource(
        CitationSerializer,
        Citation.objects.all,
        relations={"authors": "authors"},
    ),
}
