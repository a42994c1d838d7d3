"""Lists read as values (her2db/api/reads.py) show what the serializers show."""

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
    rows, url = [], f"/api/v1/{basename}/?page_size=40&ordering=-created_at"
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
