"""One operation, one id: history rows grouped by what wrote them, not by clock."""

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from her2db.operations import operation
from tests.conftest import make_agent, make_citation, make_evidence
from therapies.models import Agent, AgentAlias, ChangeEntry, EvidenceCitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_api(editor) -> APIClient:
    client = APIClient()
    client.force_authenticate(editor)
    return client


def agent_feed(slug: str) -> list[tuple]:
    return [
        (e.action, e.fields)
        for e in ChangeEntry.objects.filter(kind="agent", identifier=slug)
    ]


def test_one_request_writes_its_history_rows_under_one_id(editor_api):
    body = {
        "name": "opumab",
        "slug": "opumab",
        "modality": "MONOCLONAL_ANTIBODY",
        "aliases": [{"alias": "Opra", "kind": "BRAND"}, {"alias": "OP-1"}],
    }
    assert editor_api.post("/api/v1/agents/", body, format="json").status_code == 201
    agent = Agent.objects.get(slug="opumab")
    ids = {agent.history.get().operation} | {
        row.operation for row in AgentAlias.history.filter(agent_id=agent.pk)
    }
    assert len(ids) == 1 and None not in ids
    editor_api.patch(
        "/api/v1/agents/opumab/",
        {"abbreviation": "OPM"},
        format="json",
        HTTP_IF_MATCH=editor_api.get("/api/v1/agents/opumab/")["ETag"],
    )
    later = agent.history.latest().operation
    assert later not in ids


@pytest.mark.parametrize("pause", [0, 3])
def test_post_then_patch_gives_the_same_feed_with_or_without_a_pause(editor_api, pause):
    body = {"name": "pausumab", "slug": "pausumab", "modality": "MONOCLONAL_ANTIBODY"}
    assert editor_api.post("/api/v1/agents/", body, format="json").status_code == 201
    time.sleep(pause)
    etag = editor_api.get("/api/v1/agents/pausumab/")["ETag"]
    response = editor_api.patch(
        "/api/v1/agents/pausumab/",
        {"aliases": [{"alias": "Pausra", "kind": "BRAND"}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert agent_feed("pausumab") == [("created", []), ("updated", ["aliases"])]


def test_a_save_that_changes_nothing_feeds_nothing():
    agent = make_agent(slug="stillumab", name="stillumab")
    with operation():
        agent.save()
    assert agent_feed("stillumab") == [("created", [])]


def test_restore_brings_back_only_what_its_deletion_took(editor_client):
    first, second = make_citation(), make_citation()
    evidence = make_evidence(citations=[first, second])
    with operation():  # removed earlier, by another edit
        EvidenceCitation.objects.filter(evidence=evidence, citation=second).delete()
    delete = reverse("admin:therapies_evidence_delete", args=[evidence.pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 302
    record = evidence.history.get(history_type="-")
    restore = reverse("admin:therapies_evidence_restore", args=[record.history_id])
    assert editor_client.post(restore).status_code == 302
    links = EvidenceCitation.objects.filter(evidence_id=evidence.pk)
    assert [link.citation for link in links] == [first]


def test_the_history_manager_class_is_built_once():
    # simple-history would build a new class on every `.history` access.
    agent = make_agent()
    assert type(agent.history) is type(Agent.history) is type(agent.history)
