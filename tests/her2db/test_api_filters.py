"""Filters on what users ask, several values where that makes sense, and a 400
naming the parameter when a value is wrong."""

from datetime import date

import pytest

from tests.api_clients import keys
from tests.conftest import (
    make_agent,
    make_approval,
    make_citation,
    make_evidence,
    make_mechanism,
    make_trial,
)
from therapies.models import Trial, TrialArm

pytestmark = pytest.mark.django_db


def uids(response) -> set[str]:
    return set(keys(response, "uid"))


def test_evidence_by_several_levels(anon, world):
    a, b = world["accepted"]
    assert uids(anon.get("/api/v1/evidence/?level=B")) == {str(a.uid)}
    both = {str(a.uid), str(b.uid)}
    assert uids(anon.get("/api/v1/evidence/?level=B&level=D")) == both
    assert uids(anon.get("/api/v1/evidence/?level=B,D")) == both
    assert uids(anon.get("/api/v1/evidence/?level=E")) == set()


def test_evidence_by_mechanism_includes_its_subtree(anon, world):
    receptor, p95, downstream, pi3k = world["mechanisms"]
    deeper = make_mechanism(parent=p95, slug="deeper")
    deep_claim = make_evidence(mechanism=deeper)
    a, b = world["accepted"]
    assert uids(anon.get("/api/v1/evidence/?mechanism=her-receptor")) == {
        str(a.uid),
        str(deep_claim.uid),
    }
    assert uids(anon.get("/api/v1/evidence/?mechanism=deeper")) == {str(deep_claim.uid)}
    assert uids(anon.get("/api/v1/evidence/?mechanism=deeper,pi3k")) == {
        str(deep_claim.uid),
        str(b.uid),
    }
    assert uids(anon.get("/api/v1/evidence/?category=DOWNSTREAM")) == {str(b.uid)}


def test_evidence_by_agent_citation_trial_effect_and_direction(anon, world):
    a, b = world["accepted"]
    assert uids(anon.get("/api/v1/evidence/?agent=lapatinib")) == {str(b.uid)}
    assert uids(anon.get("/api/v1/evidence/?agent=trastuzumab")) == {
        str(a.uid),
        str(b.uid),
    }
    assert uids(anon.get("/api/v1/evidence/?citation=Scaltriti2007")) == {str(a.uid)}
    assert uids(anon.get("/api/v1/evidence/?trial=NCT00004067")) == {str(a.uid)}
    assert uids(anon.get("/api/v1/evidence/?effect=OVERCOMES_RESISTANCE")) == set()
    assert len(uids(anon.get("/api/v1/evidence/?direction=SUPPORTS"))) == 2
    assert len(uids(anon.get("/api/v1/evidence/?model_system=CELL_LINE"))) == 2


def test_mechanisms_by_ancestor_return_the_whole_subtree(anon, world):
    receptor, p95, downstream, pi3k = world["mechanisms"]
    make_mechanism(parent=p95, slug="deeper", name="Deeper")
    response = anon.get("/api/v1/mechanisms/?ancestor=her-receptor")
    assert keys(response, "slug") == ["deeper", "her-receptor", "p95her2"]
    assert keys(anon.get("/api/v1/mechanisms/?parent=her-receptor"), "slug") == [
        "p95her2"
    ]
    assert keys(anon.get("/api/v1/mechanisms/?root=true"), "slug") == [
        "downstream",
        "her-receptor",
    ]
    assert keys(anon.get("/api/v1/mechanisms/?category=DOWNSTREAM"), "slug") == [
        "downstream",
        "pi3k",
    ]
    assert keys(anon.get("/api/v1/mechanisms/?gene=PIK3CA"), "slug") == ["pi3k"]


def test_agents_by_modality_target_status_and_approving_agency(anon, world):
    make_agent(name="zz vaccine", slug="vax", modality="VACCINE")
    ema = make_agent(name="zz ema", slug="ema-approved")
    make_approval(agent=ema, agency="EMA", date=date(2020, 1, 1))
    assert keys(anon.get("/api/v1/agents/?modality=VACCINE"), "slug") == ["vax"]
    assert keys(
        anon.get("/api/v1/agents/?modality=VACCINE&modality=TYROSINE_KINASE_INHIBITOR"),
        "slug",
    ) == ["lapatinib", "vax"]
    assert keys(anon.get("/api/v1/agents/?target=ERBB2"), "slug") == ["trastuzumab"]
    assert keys(anon.get("/api/v1/agents/?status=APPROVED"), "slug") == ["lapatinib"]
    assert keys(anon.get("/api/v1/agents/?approval_agency=EMA"), "slug") == [
        "ema-approved"
    ]
    assert keys(anon.get("/api/v1/agents/?approval_agency=EMA,FDA"), "slug") == [
        "lapatinib",
        "ema-approved",
    ]


def test_trials_by_phase_status_setting_agent_and_nct_ids(anon, world):
    other = make_trial(
        nct_id="NCT01234567", phase="PHASE2", status="RECRUITING", setting="METASTATIC"
    )
    TrialArm.objects.create(trial=other, label="L").agents.add(world["agents"][1])
    make_trial(nct_id="NCT07654321", phase="PHASE3", status="COMPLETED")
    assert keys(anon.get("/api/v1/trials/?phase=PHASE2"), "nct_id") == ["NCT01234567"]
    assert keys(anon.get("/api/v1/trials/?status=COMPLETED"), "nct_id") == [
        "NCT07654321"
    ]
    assert keys(anon.get("/api/v1/trials/?setting=METASTATIC"), "nct_id") == [
        "NCT01234567"
    ]
    assert keys(anon.get("/api/v1/trials/?agent=lapatinib"), "nct_id") == [
        "NCT01234567"
    ]
    assert keys(
        anon.get("/api/v1/trials/?agent=lapatinib&agent=trastuzumab"), "nct_id"
    ) == [
        "NCT00004067",
        "NCT01234567",
    ]
    listed = anon.get("/api/v1/trials/?nct_id=NCT07654321,NCT00004067")
    assert keys(listed, "nct_id") == ["NCT00004067", "NCT07654321"]
    repeated = anon.get("/api/v1/trials/?nct_id=NCT07654321&nct_id=NCT01234567")
    assert keys(repeated, "nct_id") == ["NCT01234567", "NCT07654321"]


def test_trials_by_population_outside_her2_positive_breast_cancer(anon, world):
    make_trial(
        nct_id="NCT03734029",
        population="HER2_LOW_BREAST",
        conditions="HER2-low metastatic breast cancer",
    )
    make_trial(nct_id="NCT04132960", population="BREAST_MIXED_HER2")
    Trial.objects.filter(nct_id="NCT00004067").update(population="HER2_POSITIVE_BREAST")
    low = anon.get("/api/v1/trials/?population=HER2_LOW_BREAST")
    assert keys(low, "nct_id") == ["NCT03734029"]
    assert low.json()["results"][0]["population"] == "HER2_LOW_BREAST"
    outside = anon.get("/api/v1/trials/?population=HER2_LOW_BREAST,BREAST_MIXED_HER2")
    assert keys(outside, "nct_id") == ["NCT03734029", "NCT04132960"]
    inside = anon.get("/api/v1/trials/?population=HER2_POSITIVE_BREAST")
    assert keys(inside, "nct_id") == ["NCT00004067"]
    wrong = anon.get("/api/v1/trials/?population=HER2_POSITIVE")
    assert wrong.status_code == 400
    assert "population" in wrong.json()


def test_trials_whose_dates_are_estimates(anon, world):
    for nct_id, status, day, field, kind in [
        (
            "NCT04784715",
            "ACTIVE_NOT_RECRUITING",
            "2029-12-30",
            "completion",
            "ESTIMATED",
        ),
        ("NCT00567190", "COMPLETED", "2019-11-23", "completion", "ACTUAL"),
        ("NCT06000001", "NOT_YET_RECRUITING", "2027-03", "start", "ESTIMATED"),
    ]:
        make_trial(
            nct_id=nct_id,
            status=status,
            **{f"{field}_date": day, f"{field}_date_type": kind},
        )
    estimated = anon.get("/api/v1/trials/?completion_date_type=ESTIMATED")
    assert keys(estimated, "nct_id") == ["NCT04784715"]
    row = estimated.json()["results"][0]
    assert (row["completion_date"], row["completion_date_type"]) == (
        "2029-12-30",
        "ESTIMATED",
    )
    actual = anon.get("/api/v1/trials/?completion_date_type=ACTUAL")
    assert keys(actual, "nct_id") == ["NCT00567190"]
    not_started = anon.get("/api/v1/trials/?start_date_type=ESTIMATED")
    assert keys(not_started, "nct_id") == ["NCT06000001"]
    assert anon.get("/api/v1/trials/?completion_date_type=LATE").status_code == 400


def test_citations_by_year_range_journal_identifiers_type_and_retraction(anon, world):
    make_citation(
        citekey="Old1999", year=1999, publication_type="REVIEW", retracted=True
    )
    make_citation(citekey="New2023", year=2023, journal="Nature", pmid="12345")
    assert keys(anon.get("/api/v1/citations/?year_min=2023"), "citekey") == ["New2023"]
    assert keys(anon.get("/api/v1/citations/?year_max=2000"), "citekey") == ["Old1999"]
    assert keys(
        anon.get("/api/v1/citations/?year_min=2000&year_max=2010"), "citekey"
    ) == ["Scaltriti2007"]
    assert keys(anon.get("/api/v1/citations/?journal=nature"), "citekey") == ["New2023"]
    assert keys(anon.get("/api/v1/citations/?pmid=12345,17264300"), "citekey") == [
        "New2023",
        "Scaltriti2007",
    ]
    # DOIs match whatever their case or resolver prefix.
    doi = "https://doi.org/10.1093/JNCI/DJK003"
    assert keys(anon.get(f"/api/v1/citations/?doi={doi}"), "citekey") == [
        "Scaltriti2007"
    ]
    assert keys(anon.get("/api/v1/citations/?publication_type=REVIEW"), "citekey") == [
        "Old1999"
    ]
    assert keys(anon.get("/api/v1/citations/?retracted=true"), "citekey") == ["Old1999"]


def test_targets_by_agent(anon, world):
    assert keys(anon.get("/api/v1/targets/?agent=trastuzumab"), "symbol") == ["ERBB2"]


@pytest.mark.parametrize(
    "url,expected",
    [
        (
            "/api/v1/evidence/?level=Z",
            {
                "level": [
                    "Select a valid choice. Z is not one of the available choices."
                ]
            },
        ),
        (
            "/api/v1/trials/?nct_id=NCT1",
            {"nct_id": ['An NCT id is "NCT" and 8 digits.']},
        ),
        ("/api/v1/citations/?year_min=soon", {"year_min": ["Enter a whole number."]}),
        ("/api/v1/citations/?year_min=0.5", {"year_min": ["Enter a whole number."]}),
        (
            "/api/v1/mechanisms/?" + "&".join(["ancestor=same"] * 101),
            {"ancestor": ["At most 100 values."]},
        ),
        (
            "/api/v1/changes/?until=",
            {"until": ["Give a moment (ISO 8601), or leave the parameter out."]},
        ),
        (
            "/api/v1/revisions/?evidence=",
            {"evidence": ["Give a value, or leave the parameter out."]},
        ),
        (
            "/api/v1/mechanisms/?gene=",
            {"gene": ["Give a value, or leave the parameter out."]},
        ),
        (
            "/api/v1/agents/?status=",
            {"status": ["Give a value, or leave the parameter out."]},
        ),
        (
            "/api/v1/citations/?retracted=",
            {"retracted": ["Give a value, or leave the parameter out."]},
        ),
        (
            "/api/v1/revisions/?evidence=%2012%20",
            {"evidence": ["An evidence number or UID."]},
        ),
        (
            "/api/v1/citations/?year_max=100000",
            {"year_max": ["Ensure this value is less than or equal to 9999."]},
        ),
        (
            "/api/v1/citations/?pmid=abc",
            {"pmid": ["A PMID is a positive number of up to 9 digits."]},
        ),
        (
            "/api/v1/citations/?search=" + "x" * 201,
            {"search": ["Ensure this value has at most 200 characters (it has 201)."]},
        ),
        (
            "/api/v1/agents/?search=%00",
            {"search": ["Null characters are not allowed."]},
        ),
        (
            "/api/v1/mechanisms/?ancestor=%00",
            {"ancestor": ["Null characters are not allowed."]},
        ),
        (
            "/api/v1/agents/?target=%00",
            {"target": ["Null characters are not allowed."]},
        ),
        ("/api/v1/citations/?retracted=perhaps", {"retracted": ["Use true or false."]}),
        ("/api/v1/mechanisms/?root=maybe", {"root": ["Use true or false."]}),
    ],
)
def test_bad_filter_values_are_400s_naming_the_parameter(anon, world, url, expected):
    response = anon.get(url)
    assert response.status_code == 400, response.content
    assert response.json() == expected


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/evidence/?agent=nobody",
        "/api/v1/evidence/?agent=nobody,trastuzumab",
        "/api/v1/evidence/?citation=Nobody1999&trial=NCT00000000",
        "/api/v1/mechanisms/?ancestor=nowhere",
        "/api/v1/mechanisms/?parent=nowhere",
        "/api/v1/agents/?target=NOGENE",
        "/api/v1/trials/?agent=nobody",
    ],
)
def test_identifiers_that_name_nothing_match_nothing(anon, world, url):
    """An unknown identifier is a question with no answer, not a bad request;
    the schema says so, and a known one beside it still counts."""
    response = anon.get(url)
    assert response.status_code == 200, response.content
    known = "trastuzumab" in url
    assert (response.json()["count"] > 0) is known


def test_a_blank_identifier_is_no_filter_and_an_empty_one_an_error(anon, world):
    """Blanks are text the schema allows (and are ignored); nothing at all is
    not a value."""
    everything = anon.get("/api/v1/mechanisms/").json()["count"]
    assert anon.get("/api/v1/mechanisms/?gene=%0D").json()["count"] == everything
    assert anon.get("/api/v1/mechanisms/?gene=").status_code == 400
