"""Trial results as data: the rules an outcome keeps, on every path that writes
one (model, API, admin), and how programs read, filter and follow them."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from her2db.operations import operation
from tests import factories
from tests.api_clients import current, results
from therapies.models import ChangeEntry, Outcome, OutcomeArmResult
from therapies.models.outcomes import (
    ARM_OF_ANOTHER_TRIAL,
    ESTIMATE_OUTSIDE_CI,
    EVENT_NEEDED,
    TIMEPOINT_NEEDED,
)

pytestmark = pytest.mark.django_db


def outcome_body(trial, **fields) -> dict:
    labels = list(trial.arms.values_list("label", flat=True))
    return {
        "trial": trial.nct_id,
        "endpoint": "PFS",
        "analysis": "PRIMARY",
        "data_cutoff": "2021-05-21",
        "measure": "HR",
        "estimate": 0.5,
        "ci_lower": 0.4,
        "ci_upper": 0.6,
        "p_value": "0.0001",
        "p_qualifier": "<",
        "crossed_boundary": True,
        "locator": "Table 2",
        "arms": [
            {
                "arm": label,
                "unit": "MEDIAN_MONTHS",
                "value": 10 + i,
                "ci_lower": 8 + i,
                "ci_upper": 12 + i,
            }
            for i, label in enumerate(labels)
        ],
    } | fields


# --- The model ---------------------------------------------------------------------


def test_a_ci_that_does_not_contain_its_estimate_is_refused_by_the_model():
    outcome = factories.make_outcome(arms=False)
    outcome.estimate = Decimal("0.7")
    assert factories.errors_of(outcome) == {"estimate": [ESTIMATE_OUTSIDE_CI]}
    result = OutcomeArmResult(
        outcome=outcome,
        arm=outcome.trial.arms.first(),
        unit="RATE_PERCENT",
        value=Decimal("50"),
        ci_lower=Decimal("55"),
        ci_upper=Decimal("60"),
    )
    assert factories.errors_of(result) == {
        "value": [ESTIMATE_OUTSIDE_CI],
        "timepoint_years": [TIMEPOINT_NEEDED],
    }


def test_the_database_refuses_a_ci_without_its_estimate_and_a_p_above_one():
    outcome = factories.make_outcome(arms=False)
    for change in ({"estimate": Decimal("0.9")}, {"p_value": Decimal("1.5")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Outcome.objects.filter(pk=outcome.pk).update(**change)


def test_an_arm_of_another_trial_is_refused_by_the_model():
    outcome = factories.make_outcome(arms=False)
    stranger = factories.make_trial(arms=1).arms.get()
    result = OutcomeArmResult(
        outcome=outcome, arm=stranger, unit="PROPORTION_PERCENT", value=40
    )
    assert factories.errors_of(result) == {"arm": [ARM_OF_ANOTHER_TRIAL]}


def test_a_safety_outcome_names_its_event():
    outcome = factories.make_outcome(
        endpoint=Outcome.Endpoint.SAFETY, measure="", estimate=None, arms=False
    )
    outcome.ci_lower = outcome.ci_upper = None
    assert factories.errors_of(outcome) == {"event": [EVENT_NEEDED]}
    outcome.event = "interstitial lung disease"
    outcome.full_clean()


# --- The API -----------------------------------------------------------------------


def test_an_outcome_is_written_and_read_through_the_api(curator_api, anon):
    trial = factories.make_trial(arms=2)
    paper = factories.make_citation()
    body = outcome_body(trial, citation=paper.citekey)
    response = curator_api.post("/api/v1/outcomes/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    outcome = Outcome.objects.get()
    assert created["url"] == f"http://testserver/api/v1/outcomes/{outcome.uid}/"
    assert created["arms"][0] == {
        "arm": "Arm 1",
        "unit": "MEDIAN_MONTHS",
        "value": 10.0,
        "ci_lower": 8.0,
        "ci_upper": 12.0,
        "not_reached": False,
        "timepoint_years": None,
        "events": None,
        "patients": None,
    }
    assert (created["estimate"], created["p_value"]) == (0.5, 0.0001)
    # Anyone reads it, on its own and on its trial's page (not in trial lists).
    assert anon.get(created["url"]).json() == created
    page = anon.get(f"/api/v1/trials/{trial.nct_id}/").json()
    assert [o["uid"] for o in page["outcomes"]] == [str(outcome.uid)]
    assert "trial" not in page["outcomes"][0]
    assert "outcomes" not in results(anon.get("/api/v1/trials/"))[0]


@pytest.mark.parametrize(
    "change, errors",
    [
        ({"estimate": 0.8}, {"estimate": [ESTIMATE_OUTSIDE_CI]}),
        (
            {"p_value": 1.2},
            {"p_value": ["Ensure this value is less than or equal to 1."]},
        ),
        ({"endpoint": "PFSX"}, {"endpoint": ['"PFSX" is not a valid choice.']}),
        (
            {"trial": "NCT99999999"},
            {"trial": ["Object with nct_id=NCT99999999 does not exist."]},
        ),
        ({"estimate": "many"}, {"estimate": ["A valid number is required."]}),
        ({"endpoint": "SAFETY"}, {"event": [EVENT_NEEDED]}),
    ],
)
def test_bad_outcomes_are_400s_naming_the_field(curator_api, change, errors):
    trial = factories.make_trial(arms=2)
    body = outcome_body(trial) | change
    response = curator_api.post("/api/v1/outcomes/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == errors
    assert not Outcome.objects.exists()


def test_an_arm_not_of_the_trial_is_a_400(curator_api):
    trial = factories.make_trial(arms=2)
    other = factories.make_trial(arms=1)
    body = outcome_body(trial)
    body["arms"][1]["arm"] = other.arms.get().label  # "Arm 1" of the other trial
    body["arms"][1]["arm"] = "Arm 9"
    response = curator_api.post("/api/v1/outcomes/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "arms": {"1": {"arm": [f"{trial} has no arm labelled 'Arm 9'."]}}
    }
    bad_ci = outcome_body(trial)
    bad_ci["arms"][0]["value"] = 20
    response = curator_api.post("/api/v1/outcomes/", bad_ci, format="json")
    assert response.status_code == 400
    assert response.json() == {"arms": {"0": {"value": [ESTIMATE_OUTSIDE_CI]}}}


def test_moving_an_outcome_to_another_trial_keeps_its_arms_honest(curator_api):
    outcome = factories.make_outcome()
    other = factories.make_trial(arms=2)
    url = f"/api/v1/outcomes/{outcome.uid}/"
    response = curator_api.patch(
        url, {"trial": other.nct_id}, format="json", **current(curator_api, url)
    )
    assert response.status_code == 400
    assert list(response.json()) == ["trial"]


def test_outcomes_are_filtered_by_trial_endpoint_agent_and_analysis(anon):
    first = factories.make_outcome()
    second = factories.make_outcome(endpoint="OS", analysis="FINAL")
    agent = second.trial.arms.first().agents.get()

    def uids(query):
        response = anon.get(f"/api/v1/outcomes/?{query}")
        assert response.status_code == 200, response.content
        return {o["uid"] for o in results(response)}

    assert uids(f"trial={first.trial.nct_id}") == {str(first.uid)}
    assert uids("endpoint=OS") == {str(second.uid)}
    assert uids("analysis=PRIMARY,FINAL") == {str(first.uid), str(second.uid)}
    assert uids(f"agent={agent.slug}") == {str(second.uid)}
    assert uids("agent=no-such-agent") == set()  # names nothing: matches nothing
    assert anon.get("/api/v1/outcomes/?endpoint=XYZ").status_code == 400


# --- The admin ---------------------------------------------------------------------


def test_the_admin_refuses_an_arm_value_whose_ci_misses_it(curator_client):
    outcome = factories.make_outcome(arms=False)
    arm = outcome.trial.arms.first()
    url = reverse("admin:therapies_outcome_change", args=[outcome.pk])
    page = curator_client.get(url)
    form = page.context["adminform"].form
    data = {
        name: "" if value is None else value
        for name, value in form.initial.items()
        if name in form.fields
    }
    data |= {
        "trial": outcome.trial.pk,
        "citation": outcome.citation.pk,
        "arm_results-TOTAL_FORMS": "1",
        "arm_results-INITIAL_FORMS": "0",
        "arm_results-0-arm": arm.pk,
        "arm_results-0-unit": "MEDIAN_MONTHS",
        "arm_results-0-value": "30",
        "arm_results-0-ci_lower": "8",
        "arm_results-0-ci_upper": "12",
    }
    data = {k: v for k, v in data.items() if v is not False}
    response = curator_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert ESTIMATE_OUTSIDE_CI in response.content.decode()
    assert not OutcomeArmResult.objects.exists()
    # The arm list offers the outcome's trial's arms only.
    choices = page.context["inline_admin_formsets"][0].formset.empty_form
    assert set(choices.fields["arm"].queryset) == set(outcome.trial.arms.all())
    data["arm_results-0-value"] = "10"
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert OutcomeArmResult.objects.get().value == Decimal("10")


# --- Feed, fixtures ----------------------------------------------------------------


def test_the_change_feed_names_the_outcome_that_changed():
    outcome = factories.make_outcome()
    with operation():
        result = outcome.arm_results.first()
        result.value = Decimal("11")
        result.save()
    with operation():
        outcome.locator = "Fig. 2"
        outcome.save()
    entries = [
        (e.identifier, e.action, e.fields)
        for e in ChangeEntry.objects.filter(kind="outcome")
    ]
    uid = str(outcome.uid)
    assert entries == [
        (uid, "created", []),
        (uid, "updated", ["arms"]),
        (uid, "updated", ["locator"]),
    ]


def test_outcomes_go_to_their_own_fixture_file_and_load_back(tmp_path):
    outcome = factories.make_outcome()
    call_command("dump_curated", dir=tmp_path, verbosity=0)
    rows = json.loads((tmp_path / "outcomes.json").read_text())
    assert {row["model"] for row in rows} == {
        "therapies.outcome",
        "therapies.outcomearmresult",
    }
    assert all(
        not row["model"].startswith("therapies.outcome")
        for row in json.loads((tmp_path / "therapies.json").read_text())
    )
    result = next(r for r in rows if r["model"] == "therapies.outcomearmresult")
    assert result["fields"]["arm"] == [outcome.trial.nct_id, "Arm 1"]
    OutcomeArmResult.objects.all().delete()
    Outcome.objects.all().delete()
    call_command("load_curated", dir=tmp_path, verbosity=0)
    call_command("load_curated", dir=tmp_path, verbosity=0)
    assert Outcome.objects.get().uid == outcome.uid
    assert OutcomeArmResult.objects.count() == 2
