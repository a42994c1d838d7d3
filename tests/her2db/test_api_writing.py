"""Writing through the API: relations by identifier, every model rule and
constraint as a 400 naming the field, 409 for protected deletes, history with
the user, and the review workflow."""

import pytest
from django.db import IntegrityError

from references.models import Author, Citation
from tests.api_clients import current
from tests.conftest import make_agent, make_citation, make_mechanism, make_target
from therapies.models import Agent, AgentAlias, Evidence, Mechanism, Trial
from therapies.models.agents import MONTH_STARTS_ON_DAY_1, YEAR_STARTS_ON_JANUARY_1

pytestmark = pytest.mark.django_db

API = "http://testserver/api/v1"


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()


# --- Creating and changing, relations by identifier ------------------------------


def test_curator_creates_an_agent_with_its_rows_by_identifiers(curator_api, world):
    response = curator_api.post(
        "/api/v1/agents/",
        {
            "name": "trastuzumab deruxtecan",
            "slug": "trastuzumab-deruxtecan",
            "abbreviation": "T-DXd",
            "modality": "ANTIBODY_DRUG_CONJUGATE",
            "payload": "deruxtecan",
            "linker_cleavable": True,
            "drug_to_antibody_ratio": "8.0",
            "aliases": [{"alias": "Enhertu", "kind": "BRAND"}, {"alias": "DS-8201a"}],
            "targets": [{"target": "ERBB2", "action": "BINDER"}],
            "approvals": [
                {
                    "agency": "FDA",
                    "date": "2019-12-20",
                    "indication": "HER2-positive metastatic breast cancer",
                    "citation": "Scaltriti2007",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == f"{API}/agents/trastuzumab-deruxtecan/"
    assert body["aliases"] == [
        {"alias": "DS-8201a", "kind": "SYNONYM"},
        {"alias": "Enhertu", "kind": "BRAND"},
    ]
    assert body["targets"] == [
        {
            "target": {
                "symbol": "ERBB2",
                "name": "erb-b2 receptor tyrosine kinase 2",
                "url": f"{API}/targets/ERBB2/",
            },
            "action": "BINDER",
            "binding_site": "",
            "reversibility": "",
        }
    ]
    assert body["approvals"][0]["citation"]["citekey"] == "Scaltriti2007"
    assert body["drug_to_antibody_ratio"] == "8.0"
    assert body == curator_api.get(body["url"]).json()


def test_writing_a_list_of_rows_replaces_it_keeping_unchanged_rows(curator_api, world):
    agent = world["agents"][0]
    kept = agent.agent_targets.get()
    response = curator_api.patch(
        "/api/v1/agents/trastuzumab/",
        {
            "targets": [
                {
                    "target": "ERBB2",
                    "action": "ANTAGONIST",
                    "binding_site": "domain IV",
                },
                {"target": "PIK3CA", "action": "OTHER"},
            ],
            "aliases": [{"alias": "herceptin", "kind": "BRAND"}],
        },
        format="json",
        **current(curator_api, "/api/v1/agents/trastuzumab/"),
    )
    assert response.status_code == 200, response.content
    rows = {t["target"]["symbol"]: t for t in response.json()["targets"]}
    assert rows["ERBB2"]["binding_site"] == "domain IV"
    assert set(rows) == {"ERBB2", "PIK3CA"}
    # The ERBB2 row was changed in place, not dropped and re-created.
    assert agent.agent_targets.get(target__symbol="ERBB2").pk == kept.pk
    # A change of case is the same alias, renamed.
    assert list(AgentAlias.objects.filter(agent=agent).values_list("alias")) == [
        ("herceptin",)
    ]
    cleared = curator_api.patch(
        "/api/v1/agents/trastuzumab/",
        {"targets": []},
        format="json",
        **current(curator_api, "/api/v1/agents/trastuzumab/"),
    )
    assert cleared.json()["targets"] == []


def test_an_approval_known_to_the_month_or_year_is_dated_its_first_day(
    curator_api, world
):
    url = "/api/v1/agents/trastuzumab/"
    month = {
        "agency": "FDA",
        "date": "1998-09-25",
        "date_precision": "MONTH",
        "indication": "HER2-overexpressing metastatic breast cancer",
    }
    year = month | {"date": "1998-09-01", "date_precision": "YEAR"}
    for approval, message in [
        (month, MONTH_STARTS_ON_DAY_1),
        (year, YEAR_STARTS_ON_JANUARY_1),
    ]:
        refused = curator_api.patch(
            url, {"approvals": [approval]}, format="json", **current(curator_api, url)
        )
        assert errors(refused) == {"approvals": {"0": {"date": [message]}}}
    assert not Agent.objects.get(slug="trastuzumab").approvals.exists()
    written = curator_api.patch(
        url,
        {"approvals": [month | {"date": "1998-09-01"}]},
        format="json",
        **current(curator_api, url),
    )
    assert written.status_code == 200, written.content
    assert written.json()["approvals"] == [
        {
            "agency": "FDA",
            "date": "1998-09-01",
            "date_precision": "MONTH",
            "indication": "HER2-overexpressing metastatic breast cancer",
            "her2_positive_breast": False,
            "accelerated": False,
            "reference": "",
            "citation": None,
            "trial": None,
        }
    ]


def test_curator_creates_evidence_as_a_draft_with_relations(curator_api, world):
    response = curator_api.post(
        "/api/v1/evidence/",
        {
            "agents": ["trastuzumab", "lapatinib"],
            "mechanism": "pi3k",
            "effect": "REDUCES_SENSITIVITY",
            "level": "C",
            "model_system": "PATIENTS",
            "statement": "A new claim.",
            "citations": [
                {"citation": "Berns2007", "quote": "PI3K", "location": "p. 2"}
            ],
            "trials": ["NCT00004067"],
            "status": "ACCEPTED",  # read-only: ignored
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "DRAFT"
    assert [a["slug"] for a in body["agents"]] == ["lapatinib", "trastuzumab"]
    assert body["mechanism"]["slug"] == "pi3k"
    assert body["citations"][0]["quote"] == "PI3K"
    evidence = Evidence.objects.get(uid=body["uid"])
    assert evidence.created_by.username == "curator"


def test_trial_arms_are_written_with_their_agents(curator_api, world):
    response = curator_api.put(
        "/api/v1/trials/NCT00004067/",
        {
            "nct_id": "NCT00004067",
            "title": "Adjuvant trial",
            "phase": "PHASE3",
            "arms": [
                {"label": "AC-TH", "agents": ["trastuzumab", "lapatinib"]},
                {"label": "Observation", "role": "NO_INTERVENTION"},
            ],
            "publications": ["Berns2007"],
        },
        format="json",
        **current(curator_api, "/api/v1/trials/NCT00004067/"),
    )
    assert response.status_code == 200, response.content
    arms = {a["label"]: a for a in response.json()["arms"]}
    assert [a["slug"] for a in arms["AC-TH"]["agents"]] == ["lapatinib", "trastuzumab"]
    assert arms["Observation"]["agents"] == []
    assert [p["citekey"] for p in response.json()["publications"]] == ["Berns2007"]


def test_citation_authors_are_written_in_order_and_shared_by_name(curator_api, world):
    response = curator_api.post(
        "/api/v1/citations/",
        {
            "citekey": "Swain2015",
            "title": "Pertuzumab, trastuzumab, and docetaxel",
            "doi": "https://doi.org/10.1056/NEJMoa1413513",
            "authors": [
                {"family_name": "Swain", "given_name": "SM"},
                {"family_name": "Scaltriti", "given_name": "M"},
                {"family_name": "CLEOPATRA Study Group", "is_collective": True},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["doi"] == "10.1056/nejmoa1413513"
    assert [a["family_name"] for a in body["authors"]] == [
        "Swain",
        "Scaltriti",
        "CLEOPATRA Study Group",
    ]
    assert Author.objects.filter(family_name="Scaltriti").count() == 1
    reordered = curator_api.patch(
        body["url"],
        {"authors": [{"family_name": "Scaltriti", "given_name": "M"}]},
        format="json",
        **current(curator_api, body["url"]),
    )
    assert [a["family_name"] for a in reordered.json()["authors"]] == ["Scaltriti"]


# --- Refusals: 400 naming each field ---------------------------------------------


def test_unknown_identifiers_are_named(curator_api, world):
    body = errors(
        curator_api.post(
            "/api/v1/evidence/",
            {
                "agents": ["no-such-agent"],
                "mechanism": "nowhere",
                "effect": "CONFERS_RESISTANCE",
                "level": "Z",
                "model_system": "CELL_LINE",
                "statement": "x",
                "citations": [{"citation": "Nobody1999"}],
                "trials": ["NCT00000000"],
            },
            format="json",
        )
    )
    assert body == {
        "agents": ["Object with slug=no-such-agent does not exist."],
        "mechanism": ["Object with slug=nowhere does not exist."],
        "level": ['"Z" is not a valid choice.'],
        "citations": {
            "0": {"citation": ["Object with citekey=Nobody1999 does not exist."]}
        },
        "trials": ["Object with nct_id=NCT00000000 does not exist."],
    }


def test_nul_characters_are_refused_not_a_server_error(curator_api, world):
    body = errors(
        curator_api.patch(
            "/api/v1/evidence/" + str(world["accepted"][0].uid) + "/",
            {"mechanism": "p95\x00", "agents": ["a\x00"], "statement": "x\x00"},
            format="json",
            **current(
                curator_api, "/api/v1/evidence/" + str(world["accepted"][0].uid) + "/"
            ),
        )
    )
    assert set(body) == {"mechanism", "agents", "statement"}
    response = curator_api.patch(
        "/api/v1/agents/lapatinib/",
        {"abbreviation": "L"},
        format="json",
        HTTP_X_CHANGE_REASON="why\x00not",
        **current(curator_api, "/api/v1/agents/lapatinib/"),
    )
    assert response.status_code == 200
    latest = Agent.objects.get(slug="lapatinib").history.first()
    assert latest.history_change_reason == "whynot"


def test_evidence_needs_an_agent_and_a_citation(curator_api, world):
    body = errors(
        curator_api.post(
            "/api/v1/evidence/",
            {
                "agents": [],
                "mechanism": "pi3k",
                "effect": "CONFERS_RESISTANCE",
                "level": "A",
                "model_system": "CELL_LINE",
                "statement": "",
                "citations": [],
            },
            format="json",
        )
    )
    assert set(body) == {"agents", "citations", "statement"}


@pytest.mark.parametrize(
    "change,expected",
    [
        # Model field validators.
        (
            {"chembl_id": "chembl1"},
            {"chembl_id": ['A ChEMBL id looks like "CHEMBL1201585".']},
        ),
        ({"slug": "no spaces"}, "slug"),
        # Unique constraints with a condition, reported on their field.
        (
            {"chembl_id": "CHEMBL1201585"},
            {"chembl_id": ["agent with this ChEMBL id already exists."]},
        ),
        # A rule over several fields.
        (
            {"payload": "DM1"},
            {
                "non_field_errors": [
                    "Payload, linker and drug-to-antibody ratio apply only to "
                    "antibody-drug conjugates."
                ]
            },
        ),
        ({"drug_to_antibody_ratio": "25.0"}, "drug_to_antibody_ratio"),
        ({"name": "lapatinib"}, {"name": ["agent with this name already exists."]}),
    ],
)
def test_agent_rules_are_400s_naming_the_field(curator_api, world, change, expected):
    make_agent(slug="other", name="other", chembl_id="CHEMBL1201585")
    before = list(Agent.objects.values())
    body = errors(
        curator_api.patch(
            "/api/v1/agents/trastuzumab/",
            change,
            format="json",
            **current(curator_api, "/api/v1/agents/trastuzumab/"),
        )
    )
    if isinstance(expected, str):
        assert list(body) == [expected]
    else:
        assert body == expected
    assert list(Agent.objects.values()) == before


def test_an_alias_belongs_to_one_agent_whatever_its_case(curator_api, world):
    body = errors(
        curator_api.patch(
            "/api/v1/agents/lapatinib/",
            {
                "aliases": [
                    {"alias": "HERCEPTIN"},
                    {"alias": "Tykerb"},
                    {"alias": "tykerb"},
                ]
            },
            format="json",
            **current(curator_api, "/api/v1/agents/lapatinib/"),
        )
    )
    assert body == {
        "aliases": {
            "0": {"alias": ["This alias already names an agent."]},
            "2": {"non_field_errors": ["This is listed twice."]},
        }
    }


def test_mechanism_tree_rules(curator_api, world):
    wrong_category = curator_api.patch(
        "/api/v1/mechanisms/p95her2/",
        {"category": "DOWNSTREAM"},
        format="json",
        **current(curator_api, "/api/v1/mechanisms/p95her2/"),
    )
    assert errors(wrong_category) == {
        "category": ["A mechanism has its parent's category (HER receptor layer)."]
    }
    cycle = curator_api.patch(
        "/api/v1/mechanisms/her-receptor/",
        {"parent": "p95her2"},
        format="json",
        **current(curator_api, "/api/v1/mechanisms/her-receptor/"),
    )
    assert errors(cycle) == {"parent": ["This would make the tree a cycle."]}
    assert Mechanism.objects.get(slug="her-receptor").parent is None


def test_trial_and_citation_rules(curator_api, world):
    url = "/api/v1/trials/NCT00004067/"
    trial = curator_api.patch(
        url,
        {
            "start_date": "2005-06",
            "start_date_type": "ACTUAL",
            "completion_date": "2004",
            "completion_date_type": "ACTUAL",
        },
        format="json",
        **current(curator_api, url),
    )
    assert errors(trial) == {
        "completion_date": ["The completion date precedes the start date."]
    }
    unmarked = curator_api.patch(
        url, {"completion_date": "2031-06"}, format="json", **current(curator_api, url)
    )
    assert list(errors(unmarked)) == ["completion_date_type"]
    assert "ACTUAL or ESTIMATED" in errors(unmarked)["completion_date_type"][0]
    estimated = curator_api.patch(
        url,
        {"completion_date": "2031-06", "completion_date_type": "ESTIMATED"},
        format="json",
        **current(curator_api, url),
    )
    assert estimated.status_code == 200, estimated.content
    assert estimated.json()["completion_date_type"] == "ESTIMATED"
    bad_id = curator_api.post(
        "/api/v1/trials/", {"nct_id": "NCT123", "title": "x"}, format="json"
    )
    assert errors(bad_id) == {"nct_id": ['An NCT id is "NCT" and 8 digits.']}
    duplicate_doi = curator_api.post(
        "/api/v1/citations/",
        {"citekey": "Copy2007", "title": "Copy", "doi": "10.1093/JNCI/DJK003"},
        format="json",
    )
    assert errors(duplicate_doi) == {"doi": ["Another citation has this DOI."]}
    retraction = curator_api.patch(
        "/api/v1/citations/Berns2007/",
        {"retraction_date": "2020-01-01"},
        format="json",
        **current(curator_api, "/api/v1/citations/Berns2007/"),
    )
    assert errors(retraction) == {
        "non_field_errors": ["Only a retracted citation has a retraction date."]
    }
    year = curator_api.patch(
        "/api/v1/citations/Berns2007/",
        {"year": 1700},
        format="json",
        **current(curator_api, "/api/v1/citations/Berns2007/"),
    )
    assert errors(year) == {
        "year": ["Ensure this value is greater than or equal to 1800."]
    }


def test_malformed_bodies_are_400s(curator_api, world):
    for body in ["not json", "[]", '{"targets": {"a": 1}}', '{"aliases": [1, 2]}']:
        response = curator_api.generic(
            "PATCH",
            "/api/v1/agents/trastuzumab/",
            body,
            content_type="application/json",
            **current(curator_api, "/api/v1/agents/trastuzumab/"),
        )
        assert response.status_code == 400, (body, response.content)


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_body_nested_too_deeply_is_a_400_not_a_500(curator_api, depth):
    before = Agent.objects.count()
    response = curator_api.generic(
        "POST",
        "/api/v1/agents/",
        "[" * depth + "]" * depth,
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "JSON parse error" in response.json()["detail"]
    assert Agent.objects.count() == before


@pytest.mark.parametrize("resource", ["agents", "citations"])
def test_an_unknown_format_is_406_not_404(anon, resource):
    response = anon.get(f"/api/v1/{resource}/?format=xml")
    assert response.status_code == 406
    assert response.json()["detail"].startswith("No format 'xml' here; formats:")


def test_a_constraint_broken_in_a_race_is_a_400_not_a_500(
    curator_api, world, monkeypatch
):
    # Someone else takes the DOI between validation and the insert.
    from her2db.api import serializers as api_serializers

    monkeypatch.setattr(api_serializers, "full_clean", lambda *args, **kwargs: None)
    response = curator_api.post(
        "/api/v1/citations/",
        {"citekey": "Race2007", "title": "Race", "doi": "10.1093/jnci/djk003"},
        format="json",
    )
    assert errors(response) == {"doi": ["Another citation has this DOI."]}
    assert not Citation.objects.filter(citekey="Race2007").exists()


def test_integrity_errors_from_unknown_causes_are_still_400s():
    from her2db.api.validation import constraint_errors

    assert constraint_errors(IntegrityError("disk says no")) == {
        "non_field_errors": [
            "This change conflicts with data already stored (a duplicate or a "
            "broken rule); nothing was saved."
        ]
    }


# --- Deleting what others use: 409 ----------------------------------------------


def test_deleting_what_evidence_uses_is_a_409_naming_the_users(editor_api, world):
    response = editor_api.delete(
        "/api/v1/agents/lapatinib/", **current(editor_api, "/api/v1/agents/lapatinib/")
    )
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith("This agent cannot be deleted")
    hidden = sorted(str(e.uid) for e in world["hidden"].values())
    pi3k = str(world["accepted"][1].uid)
    assert body["dependants"] == [
        {"resource": "evidence", "identifier": uid, "url": f"{API}/evidence/{uid}/"}
        for uid in sorted([pi3k, *hidden])
    ]
    assert Agent.objects.filter(slug="lapatinib").exists()


@pytest.mark.parametrize(
    "url,resource",
    [
        ("/api/v1/citations/Scaltriti2007/", "evidence"),
        ("/api/v1/mechanisms/her-receptor/", "mechanisms"),
        ("/api/v1/targets/ERBB2/", "agents"),
        ("/api/v1/trials/NCT00004067/", "evidence"),
    ],
)
def test_other_protected_deletes_are_409s(editor_api, world, url, resource):
    response = editor_api.delete(url, **current(editor_api, url))
    assert response.status_code == 409, response.content
    assert resource in {d["resource"] for d in response.json()["dependants"]}
    assert editor_api.get(url).status_code == 200


def test_deleting_unused_rows_works(editor_api):
    target = make_target()
    mechanism = make_mechanism()
    citation = make_citation(authors=2)
    for url in [
        f"/api/v1/targets/{target.symbol}/",
        f"/api/v1/mechanisms/{mechanism.slug}/",
        f"/api/v1/citations/{citation.citekey}/",
    ]:
        assert editor_api.delete(url, **current(editor_api, url)).status_code == 204


# --- History ---------------------------------------------------------------------


def test_api_writes_are_in_the_history_with_the_tokens_user(curator_api, world):
    curator_api.patch(
        "/api/v1/agents/lapatinib/",
        {"abbreviation": "LAP"},
        format="json",
        **current(curator_api, "/api/v1/agents/lapatinib/"),
    )
    latest = Agent.objects.get(slug="lapatinib").history.first()
    assert latest.history_type == "~"
    assert latest.history_user.username == "curator"
    assert latest.abbreviation == "LAP"
    created = curator_api.post(
        "/api/v1/trials/",
        {
            "nct_id": "NCT01234567",
            "title": "t",
            "arms": [{"label": "Drug", "agents": ["lapatinib"]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    first = Trial.objects.get(nct_id="NCT01234567").history.get()
    assert (first.history_type, first.history_user.username) == ("+", "curator")


def test_a_change_reason_header_goes_into_the_history(curator_api, world):
    curator_api.patch(
        "/api/v1/agents/lapatinib/",
        {"abbreviation": "LAP"},
        format="json",
        HTTP_X_CHANGE_REASON="Abbreviation from the FDA label",
        **current(curator_api, "/api/v1/agents/lapatinib/"),
    )
    latest = Agent.objects.get(slug="lapatinib").history.first()
    assert latest.history_change_reason == "Abbreviation from the FDA label"


def test_session_writes_are_in_the_history_with_the_user(curator_client, world):
    response = curator_client.patch(
        "/api/v1/agents/lapatinib/",
        {"abbreviation": "L"},
        content_type="application/json",
        **current(curator_client, "/api/v1/agents/lapatinib/"),
    )
    assert response.status_code == 200
    assert Agent.objects.get(
        slug="lapatinib"
    ).history.first().history_user.username == ("curator")


# --- Review workflow ------------------------------------------------------------


def transition(client, evidence, action, reason=""):
    return client.post(
        f"/api/v1/evidence/{evidence.uid}/transition/",
        {"action": action, "reason": reason},
        format="json",
    )


def test_review_goes_through_the_transition_action(curator_api, editor_api, world):
    draft = world["hidden"]["DRAFT"]
    submitted = transition(curator_api, draft, "submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "SUBMITTED"
    # A curator does not review.
    refused = transition(curator_api, draft, "accept")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "You may not accept evidence."}
    accepted = transition(editor_api, draft, "accept")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "ACCEPTED"
    assert accepted.json()["reviewed_at"] is not None
    draft.refresh_from_db()
    assert draft.reviewed_by.username == "editor"
    assert draft.history.first().history_change_reason == "accept"


def test_transition_refusals(anon, nobody_api, editor_api, world):
    submitted = world["hidden"]["SUBMITTED"]
    assert transition(anon, submitted, "accept").status_code == 401
    # Without the right to see it, it is not there at all.
    assert transition(nobody_api, submitted, "accept").status_code == 404
    accepted = world["accepted"][0]
    assert transition(nobody_api, accepted, "retire").status_code == 403
    assert errors(transition(editor_api, submitted, "reject")) == {
        "reason": ["A reason is required to reject."]
    }
    assert errors(transition(editor_api, accepted, "accept")) == {
        "non_field_errors": ["Cannot accept evidence that is accepted."]
    }
    assert set(errors(transition(editor_api, accepted, "publish"))) == {"action"}
    submitted.refresh_from_db()
    assert submitted.status == "SUBMITTED"


# --- Text is text ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": 12}, "name"),  # a model text column
        ({"slug": 7}, "slug"),  # a slug column
        ({"abbreviation": True}, "abbreviation"),
        ({"aliases": [{"alias": 3}]}, "aliases"),  # a row's column
    ],
)
def test_a_number_or_boolean_for_text_is_a_400_not_its_digits(
    curator_api, world, body, field
):
    agent = Agent.objects.order_by("slug").first()
    url = f"/api/v1/agents/{agent.slug}/"
    before = curator_api.get(url).content
    response = curator_api.patch(url, body, format="json", **current(curator_api, url))
    assert "Not a valid string." in str(errors(response)[field])
    assert curator_api.get(url).content == before


def test_declared_text_fields_take_strings_only(curator_api, world):
    citation = Citation.objects.order_by("citekey").first()
    url = f"/api/v1/citations/{citation.citekey}/"
    for body, field in [
        ({"doi": 10.1}, "doi"),
        ({"source_url": 5}, "source_url"),
        ({"authors": [{"family_name": 1}]}, "authors"),
    ]:
        response = curator_api.patch(
            url, body, format="json", **current(curator_api, url)
        )
        assert field in errors(response), body
    response = curator_api.post(
        "/api/v1/targets/",
        {"symbol": "EGFR2X", "name": "x", "aliases": [1, 2]},
        format="json",
    )
    assert "aliases" in errors(response)
    # A string is taken as it is.
    response = curator_api.patch(
        url, {"doi": "10.1000/xyz"}, format="json", **current(curator_api, url)
    )
    assert response.status_code == 200, response.content
    assert response.json()["doi"] == "10.1000/xyz"
