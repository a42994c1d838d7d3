"""Lists read as values (her2db/api/reads.py) show what the serializers show."""

from datetime import datetime
from types import SimpleNamespace

import orjson
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.module_loading import import_string
from rest_framework import serializers

from her2db.api import reads, viewsets
from her2db.api.viewsets import CuratedViewSet
from her2db.registry import registry
from references.models import Citation
from therapies.models import Evidence, EvidenceCitation
from therapies.serializers import TargetSerializer

# Every curated list: served by a CuratedViewSet.
CURATED = {
    r.basename: import_string(r.viewset)
    for r in registry.endpoints()
    if issubclass(import_string(r.viewset), CuratedViewSet)
}


def every_page(client, basename: str) -> list:
    """Every row of a list; or what a record's own URL shows."""
    cache.clear()  # under the throttle's rate however many reads it takes
    if basename.startswith("http"):
        response = client.get(basename)
        assert response.status_code == 200, (basename, response.content[:300])
        return orjson.loads(response.content)
    return pages(client, f"/api/v1/{basename}/?page_size=40&ordering=-created_at")


def pages(client, url: str) -> list:
    """Every row of the list at `url`, following its next links."""
    cache.clear()  # under the throttle's rate however many reads it takes
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        page = orjson.loads(response.content)
        rows += page["results"]
        url = page["next"]
    return rows


@pytest.fixture
def both_paths(settings, monkeypatch):
    """(rows read as values, rows read through the serializer) of a list."""
    settings.API_CACHE = False  # each read built afresh

    def read(client, basename):
        plans = []

        def recorded(*args):
            plans.append(reads.plan_for(*args))
            return plans[-1]

        with monkeypatch.context() as patched:
            patched.setattr(viewsets, "plan_for", recorded)
            values = every_page(client, basename)
        # Read as values indeed, not through the serializer (a trial's own
        # page shows its outcomes, which are read through it).
        assert plans and None not in plans or "/trials/NCT" in basename, basename
        with monkeypatch.context() as patched:
            patched.setattr(viewsets, "plan_for", lambda *args: None)
            serialized = every_page(client, basename)
        return values, serialized

    return read


@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_every_list_reads_as_values_what_its_serializer_shows(
    db, shipped_data, both_paths, curator, reader
):
    # A claim citing a retracted paper that no curator has reviewed it against.
    claim = Evidence.objects.accepted().first()
    Citation.objects.filter(evidence=claim).update(retracted=True)
    EvidenceCitation.objects.filter(evidence=claim).update(retraction_reviewed=False)
    client = Client()
    if reader == "curator":
        client.force_login(curator)
    assert {"targets", "agents", "trials", "outcomes", "evidence"} <= set(CURATED)
    for basename in CURATED:
        values, serialized = both_paths(client, basename)
        assert values, basename
        assert values == serialized, basename
        # Each record on its own page, the same both ways.
        for row in values[:12]:
            one, other = both_paths(client, row["url"])
            assert one == other, row["url"]
        missing = client.get(f"/api/v1/{basename}/no-such-record-0/")
        assert missing.status_code == 404, basename
    shown = both_paths(client, "evidence")[0]
    assert any(item["warnings"] for item in shown)
    # The querysets kept for each view and variant are only ever cloned.
    assert viewsets._BUILT
    assert all(kept._result_cache is None for kept in viewsets._BUILT.values())


def test_a_queryset_kept_for_one_reader_is_not_served_to_another(
    db, shipped_data, curator, settings
):
    settings.API_CACHE = False
    draft = Evidence.objects.accepted().first()
    Evidence.objects.filter(pk=draft.pk).update(status=Evidence.Status.DRAFT)
    url = f"/api/v1/evidence/{draft.uid}/"
    reader, editor = Client(), Client()
    editor.force_login(curator)
    assert editor.get(url).status_code == 200
    assert reader.get(url).status_code == 404
    assert editor.get(url).status_code == 200
    listed = [row["uid"] for row in every_page(reader, "evidence")]
    assert str(draft.uid) not in listed
    assert str(draft.uid) in [row["uid"] for row in every_page(editor, "evidence")]
    # Unfiltered lists too, whose queries are compiled once for each reader.
    for _ in range(2):
        unfiltered = "/api/v1/evidence/?page_size=50"
        assert str(draft.uid) in [row["uid"] for row in pages(editor, unfiltered)]
        assert str(draft.uid) not in [row["uid"] for row in pages(reader, unfiltered)]


def test_a_field_the_values_cannot_make_is_read_through_the_serializer():
    class Odd(TargetSerializer):
        odd = serializers.SerializerMethodField()

        def get_odd(self, target) -> str:
            return target.symbol.lower()

        class Meta(TargetSerializer.Meta):
            fields = [*TargetSerializer.Meta.fields, "odd"]

    from therapies.models import Target

    assert reads.plan_for(Odd, Target.objects.all()) is None
    assert reads.plan_for(TargetSerializer, Target.objects.all()) is not None


def test_a_record_is_read_by_its_query_compiled_once_for_the_next_key(
    db, shipped_data, settings, django_assert_num_queries
):
    settings.API_CACHE = False
    reads.RECORDS.compiled.clear()
    client = Client()
    first, second, third = Citation.objects.order_by("pk")[:3]
    for citation in (first, second):
        response = client.get(f"/api/v1/citations/{citation.citekey}/")
        shown = orjson.loads(response.content)
        assert shown["citekey"] == citation.citekey
        assert shown["title"] == citation.title
    # One compiled query for the citations' view and the anonymous reader.
    (kept,) = [
        compiled
        for key, compiled in reads.RECORDS.compiled.items()
        if key[0].__name__ == "CitationViewSet"
    ]
    assert kept.params[kept.key_place] == first.citekey  # compiled for the first
    # The third is read with it: its key in the first's place, nothing rebuilt.
    built = []
    original = reads.CompiledValues.__init__

    def counting(self, queryset, *args):
        built.append(queryset)
        original(self, queryset, *args)

    reads.CompiledValues.__init__ = counting
    try:
        response = client.get(f"/api/v1/citations/{third.citekey}/")
    finally:
        reads.CompiledValues.__init__ = original
    assert orjson.loads(response.content)["citekey"] == third.citekey
    assert built == []
    # A key that is no record, or that the field refuses, is a 404 as before.
    assert client.get("/api/v1/citations/NoSuchPaper1999/").status_code == 404
    assert client.get("/api/v1/evidence/not-a-uid/").status_code == 404
    assert client.get("/api/v1/evidence/12x/").status_code == 404


def test_a_key_equal_to_a_constant_of_the_query_is_not_put_in_its_place(db):
    """The compiled query takes the key's place from where the first key stood;
    a constant of the query equal to that key leaves it uncompiled."""
    from therapies.models import Target

    queryset = Target.objects.exclude(symbol="ERBB4")
    Target.objects.create(symbol="ERBB2", name="erb-b2 receptor tyrosine kinase 2")
    Target.objects.create(symbol="ERBB3", name="erb-b2 receptor tyrosine kinase 3")
    records = reads.Records()
    symbol = SimpleNamespace(columns=["symbol"], naive=frozenset())  # a plan
    Target.objects.create(symbol="ERBB4", name="erb-b2 receptor tyrosine kinase 4")
    rows = records.rows(("test",), queryset, symbol, {"symbol": "ERBB4"})
    assert rows == []
    assert records.compiled == {}  # "ERBB4" is twice among the parameters
    rows = records.rows(("test",), queryset, symbol, {"symbol": "ERBB2"})
    assert rows == [{"symbol": "ERBB2"}]
    assert records.rows(("test",), queryset, symbol, {"symbol": "ERBB3"}) == [
        {"symbol": "ERBB3"}
    ]
    assert len(records.compiled) == 1


@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_an_unfiltered_list_is_paged_by_its_compiled_query_as_serialized(
    db, shipped_data, settings, monkeypatch, curator, reader
):
    """A list with nothing but a page asked for runs its compiled query
    (reads.CompiledList): every page, the count and the links as the
    serializer path gives them, and only what this reader may see."""
    settings.API_CACHE = False
    viewsets._LISTS.clear()
    client = Client()
    if reader == "curator":
        client.force_login(curator)
    for basename in CURATED:
        url = f"/api/v1/{basename}/?page_size=15"
        first = orjson.loads(client.get(url).content)
        compiled = pages(client, url)  # compiled by the first read, run since
        assert any(key[0] is CURATED[basename] for key in viewsets._LISTS), basename
        with monkeypatch.context() as patched:
            patched.setattr(viewsets, "plan_for", lambda *args: None)
            patched.setattr(viewsets, "_LISTS", {})
            serialized = pages(client, url)
            assert orjson.loads(client.get(url).content) == first, basename
        assert compiled == serialized, basename
        assert first["count"] == len(compiled), basename
    # A draft is in a curator's unfiltered list, not in an anonymous reader's.
    draft = Evidence.objects.accepted().first()
    Evidence.objects.filter(pk=draft.pk).update(status=Evidence.Status.DRAFT)
    listed = [row["uid"] for row in pages(client, "/api/v1/evidence/?page_size=50")]
    assert (str(draft.uid) in listed) is (reader == "curator")
    assert client.get("/api/v1/evidence/?page=999").status_code == 404


def test_timestamps_are_read_naive_only_on_sqlite_and_where_the_plan_says(db):
    from django.db import connection

    from therapies.models import Target

    Target.objects.create(symbol="ERBB2", name="erb-b2 receptor tyrosine kinase 2")
    plan = reads.plan_for(TargetSerializer, Target.objects.all())
    assert {"created_at", "updated_at"} <= plan.naive
    queryset = Target.objects.values(*plan.columns)
    (row,) = reads.CompiledValues(queryset, plan.naive).rows([])
    (converted,) = reads.CompiledValues(queryset).rows([])
    assert isinstance(converted["created_at"], datetime)
    if connection.vendor == "sqlite":
        assert row["created_at"] == converted["created_at"].replace(tzinfo=None)
    else:
        assert row["created_at"] == converted["created_at"]
    writer = reads.VALUES.writer(TargetSerializer().fields["created_at"])
    assert writer(row["created_at"]) == writer(converted["created_at"])
