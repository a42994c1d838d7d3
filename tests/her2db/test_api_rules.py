"""The API refuses what check_data would report about one record (400 naming
the field): the rules of therapies/rules.py, the tree's one root per category
and the identifiers' formats."""

import pytest

from tests.api_clients import current
from therapies.models import Agent, Mechanism, Trial, TrialArm
from therapies.rules import NO_AGENTS, NO_APPROVAL, NO_APPROVAL_SOURCE, NO_ARMS

pytestmark = pytest.mark.django_db

TRIAL = {"nct_id": "NCT01234567", "title": "A new trial"}


def patch(client, url, body):
    return client.patch(url, body, format="json", **current(client, url))


@pytest.mark.parametrize("arms", [None, []])
def test_a_trial_without_arms_is_refused(curator_api, arms):
    body = TRIAL | ({} if arms is None else {"arms": arms})
    response = curator_api.post("/api/v1/trials/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"arms": [NO_ARMS]}
    assert not Trial.objects.exists()


def test_an_arm_that_gives_no_agent_is_refused(curator_api, world):
    body = TRIAL | {"arms": [{"label": "Drug", "role": "EXPERIMENTAL"}]}
    response = curator_api.post("/api/v1/trials/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"arms": {"0": {"agents": [NO_AGENTS]}}}
    # Emptying the agents of a stored arm is refused the same way.
    emptied = patch(
        curator_api,
        "/api/v1/trials/NCT00004067/",
        {"arms": [{"label": "AC-TH", "agents": []}]},
    )
    assert emptied.status_code == 400
    assert emptied.json() == {"arms": {"0": {"agents": [NO_AGENTS]}}}
    arm = TrialArm.objects.get(label="AC-TH")
    assert list(arm.agents.values_list("slug", flat=True)) == ["trastuzumab"]


@pytest.mark.parametrize(
    "role", ["PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION"]
)
def test_placebo_sham_and_observation_arms_give_no_agent(curator_api, world, role):
    body = TRIAL | {
        "arms": [
            {"label": "Drug", "agents": ["trastuzumab"]},
            {"label": "Control", "role": role},
        ]
    }
    response = curator_api.post("/api/v1/trials/", body, format="json")
    assert response.status_code == 201, response.content


def test_a_physicians_choice_arm_may_give_no_agent(curator_api, world):
    trial = world["trial"]
    TrialArm.objects.create(trial=trial, label="TPC", physicians_choice=True)
    response = patch(
        curator_api,
        f"/api/v1/trials/{trial.nct_id}/",
        {"arms": [{"label": "AC-TH"}, {"label": "TPC", "agents": []}]},
    )
    assert response.status_code == 200, response.content


def test_a_second_root_in_a_category_is_refused(curator_api, world):
    message = (
        "HER receptor layer already has its root mechanism (her-receptor): "
        "file this one under it."
    )
    body = {"slug": "another", "name": "Another", "category": "HER_RECEPTOR"}
    response = curator_api.post("/api/v1/mechanisms/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"parent": [message]}
    detached = patch(curator_api, "/api/v1/mechanisms/p95her2/", {"parent": None})
    assert detached.status_code == 400
    assert detached.json() == {"parent": [message]}
    assert Mechanism.objects.get(slug="p95her2").parent.slug == "her-receptor"
    # The root itself, and a root of a category without one, are fine.
    assert (
        patch(
            curator_api, "/api/v1/mechanisms/her-receptor/", {"name": "HER receptors"}
        ).status_code
        == 200
    )
    body = {"slug": "metabolic", "name": "Metabolic", "category": "METABOLISM"}
    assert (
        curator_api.post("/api/v1/mechanisms/", body, format="json").status_code == 201
    )


def test_an_approved_agent_needs_an_approval(curator_api, world):
    body = {
        "name": "newumab",
        "slug": "newumab",
        "modality": "OTHER",
        "development_status": "APPROVED",
    }
    response = curator_api.post("/api/v1/agents/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"development_status": [NO_APPROVAL]}
    approval = {"agency": "FDA", "date": "2024-11-20", "indication": "HER2+ BTC"}
    created = curator_api.post(
        "/api/v1/agents/", body | {"approvals": [approval]}, format="json"
    )
    assert created.status_code == 201, created.content
    # Neither removing the last approval nor approving without one passes.
    removed = patch(curator_api, "/api/v1/agents/lapatinib/", {"approvals": []})
    assert removed.json() == {"development_status": [NO_APPROVAL]}
    approved = patch(
        curator_api, "/api/v1/agents/trastuzumab/", {"development_status": "APPROVED"}
    )
    assert approved.json() == {"development_status": [NO_APPROVAL]}
    assert Agent.objects.get(slug="lapatinib").approvals.count() == 1
    # Approved together with its approval (known to the month): accepted.
    month = {"agency": "FDA", "date": "1998-09-01", "date_precision": "MONTH"}
    approved = patch(
        curator_api,
        "/api/v1/agents/trastuzumab/",
        {
            "development_status": "APPROVED",
            "approvals": [month | {"indication": "MBC"}],
        },
    )
    assert approved.status_code == 200, approved.content
    assert Agent.objects.get(slug="trastuzumab").development_status == "APPROVED"


def test_an_approved_agent_without_an_approval_is_refused_any_change(
    curator_api, world
):
    # Saved around the rules (as an old database may hold one): any write to
    # it names what to fix, whatever fields it sets.
    Agent.objects.get(slug="lapatinib").approvals.all().delete()
    url = "/api/v1/agents/lapatinib/"
    refused = patch(curator_api, url, {"abbreviation": "LAP"})
    assert refused.status_code == 400
    assert refused.json() == {"development_status": [NO_APPROVAL]}
    fixed = patch(
        curator_api, url, {"abbreviation": "LAP", "development_status": "DISCONTINUED"}
    )
    assert fixed.status_code == 200, fixed.content


def test_a_new_her2_breast_approval_cites_its_label_or_trial(curator_api, world):
    url = "/api/v1/agents/lapatinib/"
    # As written: relations by identifier.
    approvals = [
        row
        | {
            "citation": row["citation"] and row["citation"]["citekey"],
            "trial": row["trial"] and row["trial"]["nct_id"],
        }
        for row in curator_api.get(url).json()["approvals"]
    ]
    new = {
        "agency": "EMA",
        "date": "2024-01-02",
        "indication": "HER2-positive breast cancer",
        "her2_positive_breast": True,
    }
    response = patch(curator_api, url, {"approvals": [*approvals, new]})
    assert response.status_code == 400
    position = str(len(approvals))
    assert response.json() == {
        "approvals": {position: {"citation": [NO_APPROVAL_SOURCE]}}
    }
    cited = new | {"trial": "NCT00004067"}
    response = patch(curator_api, url, {"approvals": [*approvals, cited]})
    assert response.status_code == 200, response.content
    assert response.json()["approvals"][-1]["trial"]["nct_id"] == "NCT00004067"


@pytest.mark.parametrize(
    "resource, body, field",
    [
        ("agents", {"name": "x", "slug": "x", "chembl_id": "CHEMBL0"}, "chembl_id"),
        ("agents", {"name": "y", "slug": "y", "drugbank_id": "DB1"}, "drugbank_id"),
        ("agents", {"name": "z", "slug": "z", "ncit_id": "X1647"}, "ncit_id"),
        ("targets", {"symbol": "ABC1", "name": "a", "hgnc_id": "3430"}, "hgnc_id"),
        ("targets", {"symbol": "ABC2", "name": "b", "uniprot_id": "P0"}, "uniprot_id"),
        ("trials", {"nct_id": "NCT123", "title": "t"}, "nct_id"),
        ("trials", {"nct_id": "NCT01234567", "start_date": "2008-13"}, "start_date"),
        ("citations", {"citekey": "X2024", "title": "t", "doi": "doi"}, "doi"),
        ("citations", {"citekey": "Y2024", "title": "t", "pmid": "x1"}, "pmid"),
    ],
)
def test_malformed_identifiers_are_refused(curator_api, resource, body, field):
    body = {"modality": "OTHER"} | body if resource == "agents" else body
    response = curator_api.post(f"/api/v1/{resource}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
