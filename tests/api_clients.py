"""API clients for each persona, and a small connected data set."""

import copy
from datetime import date

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from references.models import Author, CitationAuthor
from tests import factories
from therapies.models import AgentAlias, AgentTarget, Approval, TrialArm


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The anonymous throttle counts in the cache: start each test at zero."""
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    _, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def curator_api(curator) -> APIClient:
    return token_client(curator)


@pytest.fixture
def editor_api(editor) -> APIClient:
    return token_client(editor)


@pytest.fixture
def nobody_api(nobody) -> APIClient:
    return token_client(nobody)


@pytest.fixture
def world(db, held_world) -> dict:
    """A little of everything, linked the way the curated data is: written
    once for all the tests asking for it (tests/conftest.py), each given its
    own copy of the objects."""
    return copy.deepcopy(held_world.value)


def build_world() -> dict:
    erbb2 = factories.make_target(
        symbol="ERBB2", name="erb-b2 receptor tyrosine kinase 2"
    )
    erbb2.aliases = "HER2, NEU"
    erbb2.save()
    pik3ca = factories.make_target(symbol="PIK3CA", name="phosphatidylinositol kinase")
    trastuzumab = factories.make_agent(name="trastuzumab", slug="trastuzumab")
    AgentAlias.objects.create(agent=trastuzumab, alias="Herceptin", kind="BRAND")
    AgentTarget.objects.create(
        agent=trastuzumab,
        target=erbb2,
        action=AgentTarget.Action.ANTAGONIST,
        binding_site="extracellular domain IV",
    )
    lapatinib = factories.make_agent(
        name="lapatinib",
        slug="lapatinib",
        modality="TYROSINE_KINASE_INHIBITOR",
        development_status="APPROVED",
    )
    label = factories.make_citation(
        citekey="Tykerb2007", title="Tykerb label", authors=1
    )
    Approval.objects.create(
        agent=lapatinib,
        agency="FDA",
        date=date(2007, 3, 13),
        indication="HER2-positive metastatic breast cancer with capecitabine",
        her2_positive_breast=True,
        citation=label,
    )
    receptor = factories.make_mechanism(slug="her-receptor", name="HER receptor layer")
    p95 = factories.make_mechanism(parent=receptor, slug="p95her2", name="p95HER2")
    p95.genes.add(erbb2)
    downstream = factories.make_mechanism(
        slug="downstream", name="Downstream signalling", category="DOWNSTREAM"
    )
    pi3k = factories.make_mechanism(parent=downstream, slug="pi3k", name="PI3K pathway")
    pi3k.genes.add(pik3ca)
    scaltriti = factories.make_citation(
        citekey="Scaltriti2007",
        title="Expression of p95HER2 and response to anti-HER2 therapies",
        journal="J Natl Cancer Inst",
        year=2007,
        pmid="17264300",
        doi="10.1093/jnci/djk003",
    )
    CitationAuthor.objects.create(
        citation=scaltriti,
        author=Author.objects.create(family_name="Scaltriti", given_name="M"),
        position=1,
    )
    berns = factories.make_citation(
        citekey="Berns2007", title="PI3K pathway and trastuzumab"
    )
    trial = factories.make_trial(
        nct_id="NCT00004067", acronym="B-31", title="Adjuvant trial"
    )
    arm = TrialArm.objects.create(trial=trial, label="AC-TH")
    arm.agents.add(trastuzumab)
    trial.publications.add(scaltriti)
    accepted = factories.make_evidence(
        agents=[trastuzumab],
        mechanism=p95,
        citations=[scaltriti],
        level="B",
        statement="p95HER2 predicts poor response to trastuzumab.",
    )
    accepted.trials.add(trial)
    pi3k_claim = factories.make_evidence(
        agents=[trastuzumab, lapatinib],
        mechanism=pi3k,
        citations=[berns],
        level="D",
        statement="PIK3CA mutation reduces sensitivity to HER2 blockade.",
    )
    hidden = {
        status: factories.make_evidence(
            agents=[lapatinib],
            mechanism=p95,
            citations=[berns],
            level="A",
            status=status,
            statement=f"An unpublished {status.lower()} claim about lapatinib.",
        )
        for status in ("DRAFT", "SUBMITTED", "REJECTED")
    }
    return {
        "targets": [erbb2, pik3ca],
        "agents": [trastuzumab, lapatinib],
        "mechanisms": [receptor, p95, downstream, pi3k],
        "citations": [scaltriti, berns, label],
        "trial": trial,
        "accepted": [accepted, pi3k_claim],
        "hidden": hidden,
    }


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def keys(response, key: str) -> list:
    return [row[key] for row in results(response)]


def current(client: APIClient, url: str) -> dict:
    """If-Match for a write: the ETag a GET of the record gives now."""
    response = client.get(url)
    assert response.status_code == 200, response.content
    return {"HTTP_IF_MATCH": response["ETag"]}
