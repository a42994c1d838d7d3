"""Review through the API: revisions of accepted claims, independent reviewers,
and no lost updates (If-Match required)."""

import pytest
from django.contrib.auth.models import User

from tests.api_clients import current, results, token_client
from tests.conftest import make_evidence
from therapies.models import Agent, ChangeEntry, Evidence, Revision
from therapies.models.review import content_of

pytestmark = pytest.mark.django_db


def claim_url(evidence) -> str:
    return f"/api/v1/evidence/{evidence.pk}/"


def propose(client, evidence, change: dict, **headers):
    url = claim_url(evidence)
    return client.patch(url, change, format="json", **current(client, url), **headers)


def act(client, revision_id, action: str, reason: str = ""):
    body = {"action": action} | ({"reason": reason} if reason else {})
    return client.post(
        f"/api/v1/revisions/{revision_id}/transition/", body, format="json"
    )


@pytest.fixture
def superuser_api(db):
    return token_client(User.objects.create_superuser("root", password="pw-12345"))


# --- 428: If-Match is required ----------------------------------------------------

RECORDS = {
    "targets": "/api/v1/targets/ERBB2/",
    "agents": "/api/v1/agents/trastuzumab/",
    "mechanisms": "/api/v1/mechanisms/p95her2/",
    "trials": "/api/v1/trials/NCT00004067/",
    "citations": "/api/v1/citations/Berns2007/",
    "evidence": None,  # the draft claim of `world`
}


@pytest.mark.parametrize("resource", RECORDS)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_without_if_match_are_428_on_every_curated_resource(
    editor_api, world, resource, method
):
    url = RECORDS[resource] or claim_url(world["hidden"]["DRAFT"])
    before = editor_api.get(url).content
    body = editor_api.get(url).json()
    response = getattr(editor_api, method)(url, body, format="json")
    assert response.status_code == 428, response.content
    assert "If-Match" in response.json()["detail"]
    assert response["Content-Type"] == "application/json"
    assert editor_api.get(url).content == before


def test_two_clients_adding_aliases_lose_nothing(curator_api, editor_api, world):
    url = "/api/v1/agents/trastuzumab/"
    read = {}
    for name, client in [("first", curator_api), ("second", editor_api)]:
        response = client.get(url)
        read[name] = (response["ETag"], response.json()["aliases"])

    def add(client, name, alias):
        tag, aliases = read[name]
        return client.patch(
            url,
            {"aliases": [*aliases, {"alias": alias, "kind": "CODE"}]},
            format="json",
            HTTP_IF_MATCH=tag,
        )

    assert add(curator_api, "first", "RO-45-2317").status_code == 200
    stale = add(editor_api, "second", "trast-1")
    assert stale.status_code == 412
    # The second client reads again and repeats its change.
    response = editor_api.get(url)
    read["second"] = (response["ETag"], response.json()["aliases"])
    assert add(editor_api, "second", "trast-1").status_code == 200
    aliases = set(Agent.objects.get(slug="trastuzumab").aliases.values_list("alias"))
    assert aliases == {("Herceptin",), ("RO-45-2317",), ("trast-1",)}


# --- Accepted claims change only through revisions --------------------------------


def test_a_curators_patch_of_an_accepted_claim_is_a_revision_readers_do_not_see(
    anon, curator, curator_api, editor_api, world
):
    claim = world["accepted"][0]
    public = anon.get(claim_url(claim))
    base = content_of(claim)
    response = propose(
        curator_api,
        claim,
        {"statement": "p95HER2 predicts resistance.", "level": "A"},
        HTTP_X_CHANGE_REASON="Phase 3 data",
    )
    assert response.status_code == 202, response.content
    revision = response.json()
    assert response["Location"] == revision["url"]
    assert revision["status"] == "SUBMITTED"
    assert revision["changed"] == ["level", "statement"]
    assert revision["note"] == "Phase 3 data"
    assert revision["created_by"] == "curator"
    assert revision["base"] == base
    assert revision["content"] == base | {
        "statement": "p95HER2 predicts resistance.",
        "level": "A",
    }
    # Readers see the accepted claim, byte for byte, with the same ETag.
    still = anon.get(claim_url(claim))
    assert still.content == public.content
    assert still["ETag"] == public["ETag"]
    assert content_of(Evidence.objects.get(pk=claim.pk)) == base
    # An editor accepts it: now readers see it, as the curator's change.
    accepted = act(editor_api, revision["id"], "accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "ACCEPTED"
    assert accepted.json()["reviewed_by"] == "editor"
    shown = anon.get(claim_url(claim)).json()
    assert (shown["level"], shown["statement"]) == (
        "A",
        revision["content"]["statement"],
    )
    assert shown["status"] == "ACCEPTED"
    latest = Evidence.objects.get(pk=claim.pk).history.first()
    assert latest.history_user == curator
    assert "accepted by editor" in latest.history_change_reason


def test_a_put_of_an_accepted_claim_proposes_its_relations_too(
    anon, curator_api, editor_api, world
):
    claim = world["accepted"][0]
    url = claim_url(claim)
    body = curator_api.get(url).json()
    public = anon.get(url).content
    body["mechanism"] = body["mechanism"]["slug"]
    body["agents"] = ["trastuzumab", "lapatinib"]
    body["trials"] = []
    body["citations"] = [
        {"citation": "Scaltriti2007", "quote": "p95 tumours", "location": "Fig. 2"},
        {"citation": "Berns2007"},
    ]
    response = curator_api.put(url, body, format="json", **current(curator_api, url))
    assert response.status_code == 202, response.content
    revision = response.json()
    assert revision["changed"] == ["agents", "citations", "trials"]
    assert revision["content"]["citations"] == [
        {"citation": "Berns2007", "quote": "", "location": ""},
        {"citation": "Scaltriti2007", "quote": "p95 tumours", "location": "Fig. 2"},
    ]
    assert anon.get(url).content == public
    assert act(editor_api, revision["id"], "accept").status_code == 200
    shown = anon.get(url).json()
    assert [a["slug"] for a in shown["agents"]] == ["lapatinib", "trastuzumab"]
    assert shown["trials"] == []
    assert [c["location"] for c in shown["citations"]] == ["", "Fig. 2"]


def test_a_patch_that_changes_nothing_on_an_accepted_claim_is_200_and_writes_nothing(
    curator_api, world
):
    claim = world["accepted"][0]
    url = claim_url(claim)
    body = curator_api.get(url).json()
    history = Evidence.history.count()
    response = propose(
        curator_api, claim, {"statement": body["statement"], "level": body["level"]}
    )
    assert response.status_code == 200, response.content
    assert response.json() == body
    assert Evidence.history.count() == history
    assert not Revision.objects.exists()


def test_a_retraction_mark_on_an_accepted_claim_is_applied_at_once(curator_api, world):
    claim = world["accepted"][0]
    rows = [{"citation": "Scaltriti2007", "retraction_reviewed": True}]
    response = propose(curator_api, claim, {"citations": rows})
    assert response.status_code == 200, response.content
    assert response.json()["citations"][0]["retraction_reviewed"] is True
    assert not Revision.objects.exists()


def test_a_retraction_mark_beside_a_content_change_applies_at_once(curator_api, world):
    claim = world["accepted"][0]
    rows = [{"citation": "Scaltriti2007", "retraction_reviewed": True}]
    response = propose(curator_api, claim, {"citations": rows, "level": "A"})
    assert response.status_code == 202, response.content
    assert response.json()["changed"] == ["level"]
    link = claim.evidence_citations.get()
    assert link.retraction_reviewed is True
    assert Evidence.objects.get(pk=claim.pk).level == "B"


def test_a_patch_of_a_draft_is_applied_at_once(curator_api, world):
    draft = world["hidden"]["DRAFT"]
    response = propose(curator_api, draft, {"level": "C"})
    assert response.status_code == 200, response.content
    assert Evidence.objects.get(pk=draft.pk).level == "C"
    assert not Revision.objects.exists()


def test_a_rejected_revision_is_kept_with_its_reason(
    anon, curator_api, editor_api, world
):
    claim = world["accepted"][0]
    public = anon.get(claim_url(claim)).content
    revision = propose(curator_api, claim, {"level": "A"}).json()
    no_reason = act(editor_api, revision["id"], "reject")
    assert no_reason.status_code == 400
    assert no_reason.json() == {"reason": ["A reason is required to reject."]}
    rejected = act(editor_api, revision["id"], "reject", "Level A needs trials.")
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["status"] == "REJECTED"
    assert rejected.json()["reason"] == "Level A needs trials."
    assert anon.get(claim_url(claim)).content == public
    again = act(editor_api, revision["id"], "accept")
    assert again.status_code == 400
    assert Revision.objects.get().status == Revision.Status.REJECTED


def test_curators_may_not_accept_revisions(curator_api, editor_api, world):
    revision = propose(editor_api, world["accepted"][0], {"level": "A"}).json()
    response = act(curator_api, revision["id"], "accept")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not accept revisions."}


# --- The revisions resource ---------------------------------------------------------


def test_revisions_are_hidden_from_those_who_may_not_see_unpublished_evidence(
    anon, nobody_api, curator_api, world
):
    revision = propose(curator_api, world["accepted"][0], {"level": "A"}).json()
    url = f"/api/v1/revisions/{revision['id']}/"
    assert curator_api.get(url).json() == revision
    for client in (anon, nobody_api):
        assert client.get(url).status_code == 404
        assert results(client.get("/api/v1/revisions/")) == []
    assert act(nobody_api, revision["id"], "accept").status_code == 404
    assert anon.get(claim_url(world["accepted"][0])).json().get("revisions") is None


def test_revisions_filter_by_claim_number_or_uid_and_by_status(
    curator_api, editor_api, world
):
    first, second = world["accepted"]
    one = propose(curator_api, first, {"level": "A"}).json()
    two = propose(curator_api, second, {"level": "A"}).json()
    act(editor_api, two["id"], "reject", "No.")

    def ids(query):
        return [
            row["id"] for row in results(curator_api.get(f"/api/v1/revisions/{query}"))
        ]

    assert ids("") == [one["id"], two["id"]]
    assert ids(f"?evidence={first.pk}") == [one["id"]]
    assert ids(f"?evidence={second.uid}") == [two["id"]]
    assert ids("?status=SUBMITTED") == [one["id"]]
    assert ids("?status=REJECTED") == [two["id"]]
    bad = curator_api.get("/api/v1/revisions/?evidence=p95")
    assert bad.status_code == 400
    assert bad.json() == {"evidence": ["An evidence number or UID."]}


def test_a_claim_shows_its_pending_revisions_to_curators(
    anon, curator_api, editor_api, world
):
    claim = world["accepted"][0]
    pending = propose(curator_api, claim, {"level": "A"}).json()
    done = propose(curator_api, claim, {"level": "C"}).json()
    act(editor_api, done["id"], "reject", "No.")
    assert curator_api.get(claim_url(claim)).json()["revisions"] == [pending["url"]]
    assert "revisions" not in anon.get(claim_url(claim)).json()
    # Lists show no revisions: they stay as cheap as they were.
    listed = results(curator_api.get("/api/v1/evidence/"))
    assert all("revisions" not in row for row in listed)


def make_revisions(count: int, user) -> None:
    for i in range(count):
        claim = make_evidence(statement=f"Claim {i} for the queue.", created_by=user)
        Revision.propose(claim, {"level": "A"}, user)


def test_revision_list_query_count_is_flat(
    curator, curator_api, django_assert_num_queries
):
    make_revisions(2, curator)
    # 2 token (knox: the token with its user, the user's tokens), 2 the user's
    # permissions (own, groups'), 1 the data version, 1 count, 1 page of
    # revisions with their claims and users
    with django_assert_num_queries(7) as few:
        curator_api.get("/api/v1/revisions/")
    make_revisions(8, curator)
    with django_assert_num_queries(len(few.captured_queries)):
        response = curator_api.get("/api/v1/revisions/")
    assert len(results(response)) == 10


def test_revision_detail_query_count(curator, curator_api, django_assert_num_queries):
    make_revisions(1, curator)
    revision = Revision.objects.get()
    # 2 token, 2 the user's permissions (own, groups'), 1 the data version,
    # 1 revision with its claim and users
    with django_assert_num_queries(6):
        response = curator_api.get(f"/api/v1/revisions/{revision.pk}/")
    assert response.json()["evidence"]["uid"] == str(revision.evidence.uid)


# --- Independent review: 403 with the reason --------------------------------------


def submitted_claim(created_by, submitted_by) -> Evidence:
    claim = make_evidence(status="DRAFT", created_by=created_by)
    claim.transition("submit", submitted_by)
    return claim


def accept_claim(client, claim):
    url = claim_url(claim)
    return client.post(url + "transition/", {"action": "accept"}, format="json")


def test_the_creator_of_a_claim_may_not_accept_it(editor, curator, editor_api):
    response = accept_claim(editor_api, submitted_claim(editor, curator))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You created this claim: another editor must accept it."
    }


def test_the_submitter_of_a_claim_may_not_accept_it(editor, curator, editor_api):
    response = accept_claim(editor_api, submitted_claim(curator, editor))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You submitted this claim: another editor must accept it."
    }


def test_an_editor_who_changed_a_submitted_claim_may_not_accept_it(curator, editor_api):
    claim = submitted_claim(curator, curator)
    assert propose(editor_api, claim, {"level": "A"}).status_code == 200
    response = accept_claim(editor_api, claim)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You changed this claim after it was submitted: another editor "
        "must accept it."
    }
    assert Evidence.objects.get(pk=claim.pk).status == Evidence.Status.SUBMITTED


def test_a_superuser_who_created_a_claim_may_not_accept_it(curator, superuser_api):
    root = User.objects.get(username="root")
    response = accept_claim(superuser_api, submitted_claim(root, curator))
    assert response.status_code == 403
    assert "You created this claim" in response.json()["detail"]


def test_nobody_accepts_their_own_revision_superusers_included(
    editor_api, superuser_api, curator_api, world
):
    for client in (editor_api, superuser_api):
        revision = propose(client, world["accepted"][0], {"level": "A"}).json()
        response = act(client, revision["id"], "accept")
        assert response.status_code == 403
        assert response.json() == {"detail": "Nobody accepts their own revision."}
        assert Revision.objects.get(pk=revision["id"]).status == "SUBMITTED"


# --- A PATCH that changes nothing writes nothing ----------------------------------


def history_rows() -> int:
    from her2db.registry import registry

    return sum(r.model.history.count() for r in registry if hasattr(r.model, "history"))


def as_written(url: str, body: dict) -> dict:
    """A record's representation as a client writes it back unchanged."""
    if "/agents/" in url:
        return {
            "name": body["name"],
            "aliases": body["aliases"],
            "targets": [t | {"target": t["target"]["symbol"]} for t in body["targets"]],
            "approvals": [
                a | {"citation": a["citation"] and a["citation"]["citekey"]}
                for a in body["approvals"]
            ],
        }
    if "/trials/" in url:
        return {
            "title": body["title"],
            "arms": [
                arm | {"agents": [a["slug"] for a in arm["agents"]]}
                for arm in body["arms"]
            ],
            "publications": [p["citekey"] for p in body["publications"]],
        }
    if "/mechanisms/" in url:
        return {
            "name": body["name"],
            "parent": body["parent"]["slug"],
            "genes": [g["symbol"] for g in body["genes"]],
        }
    if "/evidence/" in url:
        return {
            "statement": body["statement"],
            "agents": [a["slug"] for a in body["agents"]],
            "citations": [
                c | {"citation": c["citation"]["citekey"]} for c in body["citations"]
            ],
        }
    return {k: body[k] for k in ("title", "year", "doi") if k in body} or {
        k: body[k] for k in ("name", "aliases")
    }


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/agents/trastuzumab/",
        "/api/v1/agents/lapatinib/",
        "/api/v1/trials/NCT00004067/",
        "/api/v1/mechanisms/p95her2/",
        "/api/v1/citations/Scaltriti2007/",
        "/api/v1/targets/ERBB2/",
    ],
)
def test_a_patch_that_changes_nothing_writes_no_history_and_no_feed_entry(
    curator_api, world, url
):
    body = curator_api.get(url).json()
    rows, feed = history_rows(), ChangeEntry.objects.count()
    response = curator_api.patch(
        url, as_written(url, body), format="json", **current(curator_api, url)
    )
    assert response.status_code == 200, response.content
    assert response.json() == body
    assert (history_rows(), ChangeEntry.objects.count()) == (rows, feed)


def test_a_patch_that_changes_nothing_on_a_draft_writes_nothing(curator_api, world):
    url = claim_url(world["hidden"]["DRAFT"])
    body = curator_api.get(url).json()
    rows = history_rows()
    response = curator_api.patch(
        url, as_written(url, body), format="json", **current(curator_api, url)
    )
    assert response.status_code == 200, response.content
    assert response.json() == body
    assert history_rows() == rows
