"""Only accepted evidence is public: drafts, submissions and rejections never
reach anonymous readers (or accounts without the right), however they ask."""

import pytest

from tests.api_clients import keys, results

pytestmark = pytest.mark.django_db


def statements(response) -> set[str]:
    return {row["statement"] for row in results(response)}


def test_anonymous_list_shows_accepted_evidence_only(anon, world):
    response = anon.get("/api/v1/evidence/")
    assert response.json()["count"] == 2
    assert statements(response) == {e.statement for e in world["accepted"]}


@pytest.mark.parametrize("status", ["DRAFT", "SUBMITTED", "REJECTED"])
def test_anonymous_cannot_see_unpublished_evidence(anon, nobody_api, world, status):
    hidden = world["hidden"][status]
    for client in (anon, nobody_api):
        for ident in (hidden.pk, hidden.uid):
            assert client.get(f"/api/v1/evidence/{ident}/").status_code == 404
        # Not by asking for its status, its agent, its citation or its words.
        for query in [
            f"status={status}",
            "agent=lapatinib",
            "citation=Berns2007",
            "mechanism=p95her2",
            "level=A",
            "search=unpublished",
            f"search={status.lower()}",
        ]:
            response = client.get(f"/api/v1/evidence/?{query}")
            assert hidden.statement not in statements(response), query


def test_anonymous_counts_leave_unpublished_evidence_out(anon, world):
    lapatinib = anon.get("/api/v1/agents/lapatinib/").json()
    assert lapatinib["evidence_count"] == 1  # three hidden claims left out
    p95 = anon.get("/api/v1/mechanisms/p95her2/").json()
    assert p95["evidence_count"] == 1
    listed = {
        a["slug"]: a["evidence_count"] for a in results(anon.get("/api/v1/agents/"))
    }
    assert listed == {"trastuzumab": 2, "lapatinib": 1}
    ordered = keys(anon.get("/api/v1/agents/?ordering=-evidence_count"), "slug")
    assert ordered == ["trastuzumab", "lapatinib"]


@pytest.mark.parametrize("persona", ["curator_api", "editor_api"])
def test_curators_and_editors_see_every_status(request, world, persona):
    client = request.getfixturevalue(persona)
    assert client.get("/api/v1/evidence/").json()["count"] == 5
    draft = world["hidden"]["DRAFT"]
    assert client.get(f"/api/v1/evidence/{draft.uid}/").status_code == 200
    assert keys(client.get("/api/v1/evidence/?status=DRAFT"), "uid") == [str(draft.uid)]
    assert client.get("/api/v1/agents/lapatinib/").json()["evidence_count"] == 4
