"""What readers get: the resources, their shape, paging and ordering."""

import pytest
from rest_framework.fields import DateTimeField

from tests.api_clients import keys, results
from tests.conftest import make_agent, make_citation

pytestmark = pytest.mark.django_db

API = "http://testserver/api/v1"


def stamp(value) -> str:
    return DateTimeField().to_representation(value)


def test_api_root_lists_every_resource(anon):
    response = anon.get("/api/v1/")
    assert response.status_code == 200
    listed = response.json()
    for name in ["agents", "targets", "mechanisms", "trials", "evidence", "citations"]:
        assert listed[name] == f"{API}/{name}/"


def test_agent_shows_targets_approvals_aliases_and_counts(anon, world):
    trastuzumab = anon.get("/api/v1/agents/trastuzumab/")
    assert trastuzumab.status_code == 200
    agent = world["agents"][0]
    assert trastuzumab.json() == {
        "url": f"{API}/agents/trastuzumab/",
        "slug": "trastuzumab",
        "name": "trastuzumab",
        "abbreviation": "",
        "aliases": [{"alias": "Herceptin", "kind": "BRAND"}],
        "modality": "MONOCLONAL_ANTIBODY",
        "development_status": "INVESTIGATIONAL",
        "mechanism_of_action": "",
        "targets": [
            {
                "target": {
                    "symbol": "ERBB2",
                    "name": "erb-b2 receptor tyrosine kinase 2",
                    "url": f"{API}/targets/ERBB2/",
                },
                "action": "ANTAGONIST",
                "binding_site": "extracellular domain IV",
                "reversibility": "",
            }
        ],
        "approvals": [],
        "chembl_id": "",
        "drugbank_id": "",
        "ncit_id": "",
        "payload": "",
        "linker": "",
        "linker_cleavable": None,
        "drug_to_antibody_ratio": None,
        # Both accepted claims name trastuzumab; the hidden ones do not count.
        "evidence_count": 2,
        "trial_count": 1,
        "created_at": stamp(agent.created_at),
        "updated_at": stamp(agent.updated_at),
    }
    approvals = anon.get("/api/v1/agents/lapatinib/").json()["approvals"]
    assert approvals == [
        {
            "agency": "FDA",
            "date": "2007-03-13",
            "date_precision": "DAY",
            "indication": "HER2-positive metastatic breast cancer with capecitabine",
            "her2_positive_breast": True,
            "accelerated": False,
            "reference": "",
            "citation": {
                "citekey": "Tykerb2007",
                "title": "Tykerb label",
                "year": 2020,
                "url": f"{API}/citations/Tykerb2007/",
            },
            "trial": None,
        }
    ]


def test_evidence_shows_its_agents_mechanism_citations_and_trials(anon, world):
    claim = world["accepted"][0]
    response = anon.get(f"/api/v1/evidence/{claim.uid}/")
    assert response.status_code == 200
    assert response.json() == {
        "url": f"{API}/evidence/{claim.uid}/",
        "id": claim.pk,
        "uid": str(claim.uid),
        "agents": [
            {
                "slug": "trastuzumab",
                "name": "trastuzumab",
                "url": f"{API}/agents/trastuzumab/",
            }
        ],
        "mechanism": {
            "slug": "p95her2",
            "name": "p95HER2",
            "url": f"{API}/mechanisms/p95her2/",
        },
        "effect": "CONFERS_RESISTANCE",
        "direction": "SUPPORTS",
        "level": "B",
        "origin": "UNKNOWN",
        "model_system": "CELL_LINE",
        "statement": "p95HER2 predicts poor response to trastuzumab.",
        "citations": [
            {
                "citation": {
                    "citekey": "Scaltriti2007",
                    "title": "Expression of p95HER2 and response to anti-HER2 "
                    "therapies",
                    "year": 2007,
                    "url": f"{API}/citations/Scaltriti2007/",
                },
                "quote": "",
                "location": "",
                "retraction_reviewed": False,
            }
        ],
        "trials": [
            {
                "nct_id": "NCT00004067",
                "acronym": "B-31",
                "title": "Adjuvant trial",
                "url": f"{API}/trials/NCT00004067/",
            }
        ],
        "warnings": [],
        "status": "ACCEPTED",
        "status_reason": "",
        "submitted_at": None,
        "reviewed_at": None,
        "created_at": stamp(claim.created_at),
        "updated_at": stamp(claim.updated_at),
    }
    # The number works as well as the UID.
    assert anon.get(f"/api/v1/evidence/{claim.pk}/").json() == response.json()


def test_mechanism_shows_its_place_in_the_tree(anon, world):
    body = anon.get("/api/v1/mechanisms/her-receptor/").json()
    assert body["parent"] is None
    assert body["children"] == [
        {"slug": "p95her2", "name": "p95HER2", "url": f"{API}/mechanisms/p95her2/"}
    ]
    child = anon.get("/api/v1/mechanisms/p95her2/").json()
    assert child["parent"]["slug"] == "her-receptor"
    assert child["genes"] == [
        {
            "symbol": "ERBB2",
            "name": "erb-b2 receptor tyrosine kinase 2",
            "url": f"{API}/targets/ERBB2/",
        }
    ]
    assert child["evidence_count"] == 1


def test_trial_shows_arms_with_agents_and_publications(anon, world):
    body = anon.get("/api/v1/trials/NCT00004067/").json()
    assert body["registry_url"] == "https://clinicaltrials.gov/study/NCT00004067"
    assert body["arms"] == [
        {
            "label": "AC-TH",
            "role": "EXPERIMENTAL",
            "description": "",
            "agents": [
                {
                    "slug": "trastuzumab",
                    "name": "trastuzumab",
                    "url": f"{API}/agents/trastuzumab/",
                }
            ],
        }
    ]
    assert [c["citekey"] for c in body["publications"]] == ["Scaltriti2007"]
    assert body["evidence_count"] == 1


def test_target_shows_aliases_as_a_list_and_who_acts_on_it(anon, world):
    body = anon.get("/api/v1/targets/ERBB2/").json()
    assert body["aliases"] == ["HER2", "NEU"]
    assert [a["slug"] for a in body["agents"]] == ["trastuzumab"]
    assert [m["slug"] for m in body["mechanisms"]] == ["p95her2"]


def test_citation_shows_authors_in_order_and_links(anon, world):
    body = anon.get("/api/v1/citations/Scaltriti2007/").json()
    assert body["authors"] == [
        {
            "family_name": "Scaltriti",
            "given_name": "M",
            "is_collective": False,
            "orcid": "",
        }
    ]
    assert body["pubmed_url"] == "https://pubmed.ncbi.nlm.nih.gov/17264300/"
    assert body["doi_url"] == "https://doi.org/10.1093/jnci/djk003"


def test_unknown_identifiers_are_404_in_json(anon, world):
    for url in [
        "/api/v1/agents/no-such-agent/",
        "/api/v1/targets/NOPE/",
        "/api/v1/trials/NCT99999999/",
        "/api/v1/citations/Nobody1999/",
        "/api/v1/evidence/999999999/",
        "/api/v1/evidence/00000000-0000-0000-0000-000000000000/",
        # Not even shaped like an identifier: the URL does not resolve.
        "/api/v1/trials/nct-1/",
        "/api/v1/evidence/abc/",
        "/api/v1/evidence/99999999999999999999999/",
    ]:
        response = anon.get(url)
        assert response.status_code == 404, url
        assert (
            response.json() == {"detail": "Not found."} or "detail" in response.json()
        )


def test_page_size_is_the_clients_choice_up_to_the_ceiling(anon, settings):
    for i in range(5):
        make_citation(citekey=f"Page{i}2020")
    assert len(results(anon.get("/api/v1/citations/?page_size=2"))) == 2
    body = anon.get("/api/v1/citations/?page_size=2&page=3").json()
    assert body["count"] == 5
    assert len(body["results"]) == 1 and body["next"] is None
    from her2db.api.pagination import PageNumberPagination

    assert PageNumberPagination.max_page_size == settings.API_MAX_PAGE_SIZE
    ceiling = settings.API_MAX_PAGE_SIZE
    assert len(results(anon.get(f"/api/v1/citations/?page_size={ceiling}"))) == 5
    assert anon.get("/api/v1/citations/?page=99").status_code == 404
    for page in ("last", "", "1.5", "-1"):  # a page is a whole number
        assert anon.get(f"/api/v1/citations/?page={page}").status_code == 404


@pytest.mark.parametrize("value", ["0", "-1", "0.5", "null", "false", "", "1e3", "١"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_a_400(
    anon, settings, value
):
    for bad in (value, str(settings.API_MAX_PAGE_SIZE + 1)):
        response = anon.get(f"/api/v1/citations/?page_size={bad}")
        assert response.status_code == 400, (bad, response.content)
        message = f"A whole number from 1 to {settings.API_MAX_PAGE_SIZE}."
        assert response.json() == {"page_size": [message]}


def test_the_schema_gives_the_page_bounds(anon, settings):
    schema = anon.get("/api/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/citations/"]["get"]["parameters"]
    }
    assert parameters["page"]["minimum"] == 1
    assert parameters["page_size"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": settings.API_MAX_PAGE_SIZE,
    }


def test_ordering_is_deterministic_and_ties_break_on_identity(anon):
    for i in range(4):
        make_citation(citekey=f"Same{i}", year=2020)
    make_citation(citekey="Older", year=2010)
    ordered = keys(anon.get("/api/v1/citations/?ordering=year"), "citekey")
    assert ordered[0] == "Older"
    # Equal years come back in the same order every time.
    assert ordered == keys(anon.get("/api/v1/citations/?ordering=year"), "citekey")
    newest = keys(anon.get("/api/v1/citations/?ordering=-year"), "citekey")
    assert newest[-1] == "Older"
    # By default: the model's own order (citekeys).
    assert keys(anon.get("/api/v1/citations/"), "citekey") == sorted(
        ["Older", "Same0", "Same1", "Same2", "Same3"]
    )


def test_an_unknown_ordering_field_is_ignored(anon):
    make_agent(name="b agent", slug="b")
    make_agent(name="a agent", slug="a")
    assert keys(anon.get("/api/v1/agents/?ordering=secret"), "slug") == ["a", "b"]
