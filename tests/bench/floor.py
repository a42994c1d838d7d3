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
her2db.api.search on the registry's search columns (and its count, on
PostgreSQL, in the search documents alone, as the API counts an anonymous
search).

What to fetch, and how to write it, is the API's own plan
(her2db/api/reads.py: each serializer's `Meta.fields` and field types, the
summaries' `names`, `key` and `basename`, the relations' models and
orderings); the floor runs it on SQL compiled once and on the values as the
driver returns them (`Driver`), not through Django's querysets and value
converters. So a new column is fetched on its own, and a field the floor
cannot tell how to write stops the benchmark (and the suite) with its name.
What is written out by hand is in RESOURCES at the end: the counts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from uuid import UUID

import orjson
from django.db import connections
from rest_framework import serializers
from rest_framework.settings import api_settings

from her2db.api.reads import Plan, Unreadable
from her2db.api.search import public_matches, search
from her2db.registry import registry
from references.models import Citation
from references.serializers import CitationSerializer
from therapies.models import (
    Agent,
    Evidence,
    EvidenceAgent,
    EvidenceTrial,
    Mechanism,
    Outcome,
    Target,
    Trial,
    TrialArmAgent,
)
from therapies.serializers import (
    AgentSerializer,
    CommaListField,
    EvidenceSerializer,
    MechanismSerializer,
    OutcomeSerializer,
    TargetSerializer,
    TrialSerializer,
)
from therapies.views import count_of

HOST = "http://localhost"
API = f"{HOST}/api/v1"
PREFIXES = {r.basename: f"{API}/{r.basename}/" for r in registry if r.basename}


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


class Driver:
    """Values as the database driver returns them, from SQL compiled once:
    the plans of her2db/api/reads.py without Django's value converters."""

    def __init__(self):
        self.compiled = {}  # by relation and number of ids

    def writer(self, api_field) -> Callable | None:
        """How to write a column's value as `api_field` does (None: as it is)."""
        if isinstance(api_field, serializers.DecimalField):
            places = api_field.decimal_places
            if not getattr(
                api_field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING
            ):
                return lambda value: float(f"{value:.{places}f}")
            return lambda value: f"{value:.{places}f}"
        for kind, write in WRITERS.items():
            if isinstance(api_field, kind):
                return write
        if isinstance(api_field, PLAIN):
            return None
        raise Unreadable(f"no writer for {type(api_field).__name__}")

    def uid(self, value) -> str:
        return uid(value)

    def rows(self, relation, ids: list) -> list[dict]:
        key = (relation, len(ids))
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.compiled[key] = Compiled(relation.queryset(ids))
            if list(compiled.params) != list(ids):
                raise LookupError(f"{relation.link.__name__}: more than ids to bind")
        return compiled.rows(ids)


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


@dataclass
class Resource:
    """What the floor needs to know of a list beyond its serializer."""

    serializer: type
    rows: Callable | None  # the objects the list shows, in the API's order
    # API fields counted in SQL, with the same expressions as the API's.
    annotations: dict = field(default_factory=dict)
    # The count's and the page's queries by (page size, search word).
    queries: dict = field(default_factory=dict, repr=False)

    @cached_property
    def plan(self) -> Plan:
        return Plan(
            self.serializer(),
            self.serializer.Meta.model,
            annotations=self.annotations,
            reader=Driver(),
        )

    def page(self, url: str, size: int, word: str = "") -> bytes:
        """The JSON of the first page of `size` rows at `url` (?search=`word`)."""
        counted, page = self.compiled(size, word)
        # A search counts as the API does an anonymous one: in the search
        # documents alone where the engine keeps them so.
        model = self.serializer.Meta.model
        found = public_matches(model, word, page.db) if word else None
        count = counted.count() if found is None else found
        return orjson.dumps(
            {
                "count": count,
                "next": next_page(url) if count > size else None,
                "previous": None,
                "results": self.plan.build(page.rows(), {"prefixes": PREFIXES}),
            }
        )

    def one(self, key) -> bytes:
        """The JSON of the record whose key (as the registry declares it) is `key`."""
        if ("one", key) not in self.queries:
            model = self.serializer.Meta.model
            self.queries["one", key] = Compiled(
                self.rows()
                .filter(**{registry.get(model).key: key})
                .annotate(**self.annotations)
                .values(*self.plan.columns)
            )
        rows = self.queries["one", key].rows()
        return orjson.dumps(self.plan.build(rows, {"prefixes": PREFIXES})[0])

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
    ),
    "outcomes": Resource(OutcomeSerializer, Outcome.objects.all),
    "citations": Resource(
        CitationSerializer,
        Citation.objects.all,
    ),
}
