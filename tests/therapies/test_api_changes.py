"""/api/v1/changes/: every change to public data, filterable by kind and time,
with nothing of unpublished claims."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from her2db.operations import operation
from tests.conftest import make_agent, make_evidence
from therapies.models import ChangeEntry, Evidence

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"


def rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return [
        (r["kind"], r["identifier"], r["action"], r["fields"])
        for r in response.json()["results"]
    ]


def test_feed_lists_public_changes_in_order(anon):
    agent = make_agent(slug="feedumab", name="feedumab")
    with operation():  # a later edit
        agent.abbreviation = "FMB"
        agent.save()
    assert rows(anon.get(URL, {"kind": "agent"})) == [
        ("agent", "feedumab", "created", []),
        ("agent", "feedumab", "updated", ["abbreviation"]),
    ]
    first = anon.get(URL, {"kind": "agent"}).json()["results"][0]
    assert set(first) == {"id", "kind", "identifier", "action", "changed_at", "fields"}


def test_since_returns_only_later_changes(anon):
    make_agent(slug="before", name="before")
    cut = timezone.now()
    ChangeEntry.objects.update(changed_at=cut - timedelta(seconds=1))
    make_agent(slug="after", name="after")
    since = cut.isoformat().replace("+00:00", "Z")
    assert [r[1] for r in rows(anon.get(URL, {"since": since, "kind": "agent"}))] == [
        "after"
    ]


def test_bad_since_is_a_400_naming_the_parameter(anon):
    response = anon.get(URL, {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()


def test_drafts_never_leak_into_the_feed(anon, curator, editor):
    draft = make_evidence(status=Evidence.Status.DRAFT)
    draft.statement = "secret draft wording"
    draft.save()
    draft.transition("submit", curator)
    body = anon.get(URL, {"kind": "evidence"}).content.decode()
    assert str(draft.uid) not in body
    draft.transition("accept", editor)
    assert rows(anon.get(URL, {"kind": "evidence"})) == [
        ("evidence", str(draft.uid), "created", [])
    ]


def test_feed_query_count_is_flat(anon):
    for _ in range(3):
        make_agent()

    def count(size):
        with CaptureQueriesContext(connection) as captured:
            assert anon.get(URL, {"page_size": size}).status_code == 200
        return len(captured)

    small = count(1)
    for _ in range(30):
        make_agent()
    # 1 the data version, 1 count, 1 page
    assert count(100) == small == 3


def test_evidence_citing_a_retracted_paper_carries_a_warning_until_reviewed(anon):
    from references.models import Citation
    from tests.conftest import make_citation
    from therapies.models import EvidenceCitation

    citation = make_citation(citekey="Retracted2020")
    evidence = make_evidence(citations=[citation])
    url = f"/api/v1/evidence/{evidence.uid}/"
    assert anon.get(url).json()["warnings"] == []
    Citation.objects.filter(pk=citation.pk).update(retracted=True)
    for body in (
        anon.get(url).json(),
        anon.get("/api/v1/evidence/").json()["results"][0],
    ):
        assert body["warnings"] == [
            "Cites a retracted paper (Retracted2020); no curator has reviewed "
            "this claim since."
        ]
    EvidenceCitation.objects.filter(evidence=evidence).update(retraction_reviewed=True)
    assert anon.get(url).json()["warnings"] == []


@pytest.mark.parametrize(
    "since,status",
    [
        ("0574-11-25T09:13:11+18:44", 200),  # legal ISO 8601, beyond PostgreSQL
        ("2026-01-31T12:00:00+05:30", 200),
        ("0001-01-01T00:00:00+01:00", 400),  # before year 1 once in UTC
    ],
)
def test_any_iso_moment_is_answered_without_a_server_error(anon, since, status):
    assert anon.get(URL, {"since": since}).status_code == status
