"""Every list and detail endpoint runs a fixed number of queries, however many
rows a page holds and however many relations each row has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from references.models import CitationAuthor
from tests import factories
from tests.api_clients import token_client
from tests.conftest import _hold
from therapies.models import Agent, AgentAlias, AgentTarget, TrialArm

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    # Every GET also reads the data version once (her2db/data_version.py): a
    # fixed cost, left out of the counts below, which are what building costs.
    versions = [q for q in captured if "her2db_data_version" in q["sql"]]
    assert len(versions) == 1
    return len(captured) - 1


def rich_world(rows: int = 3) -> None:
    """Several of everything, each with several of every relation."""
    for _ in range(rows):
        citations = [factories.make_citation(authors=2) for _ in range(2)]
        agents = [factories.make_agent(targets=2) for _ in range(2)]
        for agent in agents:
            AgentAlias.objects.create(agent=agent, alias=f"alias-{agent.slug}")
            factories.make_approval(agent=agent, citation=citations[0])
            factories.make_approval(agent=agent)
        parent = factories.make_mechanism(genes=2)
        child = factories.make_mechanism(parent=parent, genes=1)
        factories.make_mechanism(parent=parent)
        trial = factories.make_trial(arms=2)
        trial.publications.add(*citations)
        TrialArm.objects.create(trial=trial, label="Extra arm").agents.add(*agents)
        evidence = factories.make_evidence(
            agents=agents, mechanism=child, citations=citations
        )
        evidence.trials.add(trial, factories.make_trial())
        factories.make_outcome(trial)
        factories.make_outcome(trial, arms=False, citation=None)
        factories.make_evidence(agents=agents[:1], mechanism=parent, status="DRAFT")


@pytest.fixture(scope="session")
def held_rich_world(django_db_setup, django_db_blocker):
    yield from _hold("held_rich_world", django_db_blocker, rich_world)


@pytest.fixture
def rich(db, held_rich_world):
    """rich_world(), written once for all the tests asking for it (see
    tests/conftest.py), each in its own transaction as usual."""


# Anonymous reading. Each list: 1 COUNT, 1 page, then one query per
# prefetched relation; no query per row. Each detail: the row, then the same
# prefetches.
LISTS = {
    # page; aliases; agent targets with their targets; approvals with citations
    # (evidence and trial counts are subqueries in the page query)
    "agents": 1 + 1 + 3,
    # page; agents; mechanisms
    "targets": 1 + 1 + 2,
    # page with the parent joined; children; genes
    "mechanisms": 1 + 1 + 2,
    # page; arms; agents of the arms; publications
    "trials": 1 + 1 + 3,
    # page with the mechanism joined; agents; citations with their links; trials
    "evidence": 1 + 1 + 3,
    # page; author links with their authors
    "citations": 1 + 1 + 1,
    # page with the trial and citation joined; arms' values with their arms
    "outcomes": 1 + 1 + 1,
}


@pytest.mark.parametrize("resource", LISTS)
def test_list_queries_do_not_grow_with_the_page(anon, resource, rich):
    expected = LISTS[resource]
    small = queries(anon, f"/api/v1/{resource}/?page_size=1")
    large = queries(anon, f"/api/v1/{resource}/?page_size=100")
    assert (small, large) == (expected, expected)


DETAILS = {
    "agents": lambda: factories.make_agent(targets=3).slug,
    "targets": lambda: factories.make_target().symbol,
    "mechanisms": lambda: factories.make_mechanism(genes=3).slug,
    "trials": lambda: (
        factories.make_outcome(factories.make_outcome().trial).trial.nct_id
    ),
    "evidence": lambda: (
        factories.make_evidence(
            agents=[factories.make_agent(), factories.make_agent()],
            citations=[factories.make_citation(), factories.make_citation()],
        ).uid
    ),
    "citations": lambda: factories.make_citation(authors=5).citekey,
    "outcomes": lambda: factories.make_outcome().uid,
}


@pytest.mark.parametrize("resource", DETAILS)
def test_detail_queries_do_not_grow_with_relations(anon, resource, rich):
    identifier = DETAILS[resource]()
    # The object (with its counts and joins), then one query per prefetch;
    # a trial's own page adds its outcomes (citations joined) and their arms'
    # values (arms joined).
    expected = LISTS[resource] - 1 + (2 if resource == "trials" else 0)
    assert queries(anon, f"/api/v1/{resource}/{identifier}/") == expected


def test_filters_and_search_add_a_fixed_number_of_queries(anon, rich):
    slugs = ",".join(Agent.objects.order_by("pk").values_list("slug", flat=True)[:2])
    # The filter is a subquery: no query of its own.
    for size in (1, 100):
        url = f"/api/v1/evidence/?page_size={size}&agent={slugs}"
        assert queries(anon, url) == LISTS["evidence"]
        url = f"/api/v1/citations/?page_size={size}&search=paper"
        assert queries(anon, url) == LISTS["citations"]


def test_curator_lists_cost_authentication_and_permissions_once(curator, rich):
    client = token_client(curator)
    # Token and its user; the user's other tokens (knox cleans expired ones);
    # the user's permissions and their groups' (may they see drafts?).
    extra = 2 + 2
    for size in (1, 100):
        url = f"/api/v1/evidence/?page_size={size}"
        assert queries(client, url) == LISTS["evidence"] + extra


def test_citation_export_queries_do_not_grow_with_the_page(anon, rich):
    for _ in range(3):
        citation = factories.make_citation()
        CitationAuthor.objects.create(
            citation=citation, author=factories.make_author(), position=1
        )
    for fmt in ("csl", "bibtex", "ris"):
        for size in (1, 100):
            url = f"/api/v1/citations/?format={fmt}&page_size={size}"
            assert queries(anon, url) == LISTS["citations"]


def test_agent_target_rows_are_not_fetched_one_by_one(anon):
    agent = factories.make_agent()
    for _ in range(5):
        AgentTarget.objects.create(
            agent=agent, target=factories.make_target(), action="BINDER"
        )
    assert queries(anon, f"/api/v1/agents/{agent.slug}/") == LISTS["agents"] - 1


@pytest.mark.parametrize("resource", LISTS)
def test_the_plain_field_short_cut_writes_what_drf_would(
    anon, resource, monkeypatch, rich
):
    """PlainFieldsMixin copies plain values itself: the JSON is DRF's own."""
    from rest_framework import serializers

    from her2db.api.serializers import PlainFieldsMixin

    url = f"/api/v1/{resource}/?page_size=100"
    fast = anon.get(url).json()
    monkeypatch.setattr(
        PlainFieldsMixin, "to_representation", serializers.Serializer.to_representation
    )
    assert anon.get(url).json() == fast
