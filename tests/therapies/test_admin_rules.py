"""The single-record rules in the admin: the same ones the API and check_data hold."""

from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from tests.therapies.admin_pages import form_data
from therapies.models import Agent, Approval, TrialArm
from therapies.models.agents import MONTH_STARTS_ON_DAY_1, YEAR_STARTS_ON_JANUARY_1
from therapies.rules import (
    LAST_APPROVAL,
    NO_AGENTS,
    NO_APPROVAL,
    NO_APPROVAL_SOURCE,
    NO_ARMS,
)

pytestmark = pytest.mark.django_db


def post_back(client, url, **changes):
    """Post the change page back as a browser would, with `changes` applied."""
    data = form_data(client.get(url)) | changes
    return client.post(url, data)


def test_removing_every_arm_of_a_trial_is_refused(editor_client):
    trial = factories.make_trial(arms=1)
    url = reverse("admin:therapies_trial_change", args=[trial.pk])
    response = post_back(editor_client, url, **{"arms-0-DELETE": "on"})
    assert response.status_code == 200
    assert NO_ARMS in response.content.decode()
    assert trial.arms.count() == 1


def test_an_arm_without_agents_is_refused_unless_it_need_not_give_one(
    editor_client,
):
    trial = factories.make_trial(arms=1)
    url = reverse("admin:therapies_trial_change", args=[trial.pk])
    response = post_back(editor_client, url, **{"arms-0-agents": []})
    assert response.status_code == 200
    assert NO_AGENTS.replace("'", "&#x27;") in response.content.decode()
    assert trial.arms.get().agents.count() == 1

    response = post_back(
        editor_client,
        url,
        **{"arms-0-agents": [], "arms-0-role": TrialArm.Role.PLACEBO_COMPARATOR},
    )
    assert response.status_code == 302
    assert trial.arms.get().agents.count() == 0


def test_a_trial_date_is_saved_only_with_whether_it_is_an_estimate(editor_client):
    trial = factories.make_trial(arms=1, status="RECRUITING")
    url = reverse("admin:therapies_trial_change", args=[trial.pk])
    page = editor_client.get(url).content.decode()
    # The date and its type on one line of the form.
    assert 'class="form-row field-completion_date field-completion_date_type"' in page
    response = post_back(editor_client, url, completion_date="2031-06")
    assert response.status_code == 200
    assert "ACTUAL or ESTIMATED" in response.content.decode()
    trial.refresh_from_db()
    assert trial.completion_date == ""
    response = post_back(
        editor_client, url, completion_date="2031-06", completion_date_type="ESTIMATED"
    )
    assert response.status_code == 302
    trial.refresh_from_db()
    assert (trial.completion_date, trial.completion_date_type) == (
        "2031-06",
        "ESTIMATED",
    )


def test_an_agent_marked_approved_needs_an_approval(editor_client):
    agent = factories.make_agent()
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    response = post_back(editor_client, url, development_status=Agent.Status.APPROVED)
    assert response.status_code == 200
    assert NO_APPROVAL in response.content.decode()
    agent.refresh_from_db()
    assert agent.development_status != Agent.Status.APPROVED

    factories.make_approval(agent)
    response = post_back(editor_client, url, development_status=Agent.Status.APPROVED)
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.development_status == Agent.Status.APPROVED


def test_a_new_agent_marked_approved_needs_an_approval(editor_client):
    url = reverse("admin:therapies_agent_add")
    data = form_data(editor_client.get(url)) | {
        "name": "cyclophosphamide",
        "slug": "cyclophosphamide",
        "modality": Agent.Modality.CHEMOTHERAPY,
        "development_status": Agent.Status.APPROVED,
    }
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert NO_APPROVAL in response.content.decode()
    assert not Agent.objects.filter(slug="cyclophosphamide").exists()
    data |= {
        "approvals-TOTAL_FORMS": "1",
        "approvals-0-agency": "FDA",
        "approvals-0-date": "1959-01-01",
        "approvals-0-date_precision": "YEAR",
        "approvals-0-indication": "First U.S. approval",
    }
    assert editor_client.post(url, data).status_code == 302
    agent = Agent.objects.get(slug="cyclophosphamide")
    assert str(agent.approvals.get()) == "cyclophosphamide · FDA 1959"


def test_an_approved_agent_keeps_its_last_approval(editor_client):
    agent = factories.make_agent(development_status=Agent.Status.APPROVED)
    factories.make_approval(agent)
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    response = post_back(editor_client, url, **{"approvals-0-DELETE": "on"})
    assert response.status_code == 200
    assert NO_APPROVAL in response.content.decode()
    assert Approval.objects.filter(agent=agent).count() == 1


def test_an_approved_agents_last_approval_is_not_deleted_nor_moved_on_its_page(
    editor_client,
):
    agent = factories.make_agent(
        name="docetaxel", development_status=Agent.Status.APPROVED
    )
    approval = factories.make_approval(agent)
    message = LAST_APPROVAL.format(agent=agent)
    delete = reverse("admin:therapies_approval_delete", args=[approval.pk])
    response = editor_client.post(delete, {"post": "yes"})
    assert response.status_code == 200
    assert message in response.content.decode()
    changelist = reverse("admin:therapies_approval_changelist")
    action = {"action": "delete_selected", "_selected_action": [approval.pk]}
    response = editor_client.post(changelist, action | {"post": "yes"})
    assert message in response.content.decode()
    own = reverse("admin:therapies_approval_change", args=[approval.pk])
    other = factories.make_agent()
    response = post_back(editor_client, own, agent=other.pk)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Approval.objects.get(pk=approval.pk).agent == agent
    # Not the last one: it may move, or go.
    second = factories.make_approval(agent)
    assert post_back(editor_client, own, agent=other.pk).status_code == 302
    factories.make_approval(agent)
    delete = reverse("admin:therapies_approval_delete", args=[second.pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 302
    assert agent.approvals.count() == 1


def test_a_her2_breast_approval_cites_its_label_or_trial(editor_client):
    agent = factories.make_agent(development_status=Agent.Status.APPROVED)
    approval = factories.make_approval(agent)  # uncited: shipped data has such
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    # Left alone, it does not block other edits of its agent.
    assert post_back(editor_client, url, abbreviation="AB").status_code == 302
    tick = {"approvals-0-her2_positive_breast": "on"}
    response = post_back(editor_client, url, **tick)
    assert response.status_code == 200
    assert NO_APPROVAL_SOURCE in response.content.decode()
    trial = factories.make_trial(arms=1)
    response = post_back(editor_client, url, **tick, **{"approvals-0-trial": trial.pk})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert (approval.her2_positive_breast, approval.trial) == (True, trial)
    # On the approval's own page too.
    own = reverse("admin:therapies_approval_change", args=[approval.pk])
    response = post_back(editor_client, own, trial="")
    assert response.status_code == 200
    assert NO_APPROVAL_SOURCE in response.content.decode()


def test_a_date_known_to_the_month_or_year_is_its_first_day(editor_client):
    agent = factories.make_agent()
    approval = factories.make_approval(agent, date=date(1996, 5, 14))
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    response = post_back(editor_client, url, **{"approvals-0-date_precision": "MONTH"})
    assert response.status_code == 200
    assert MONTH_STARTS_ON_DAY_1 in response.content.decode()
    response = post_back(
        editor_client,
        url,
        **{"approvals-0-date_precision": "MONTH", "approvals-0-date": "1996-05-01"},
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert str(approval).endswith("FDA 1996-05")
    # On the approval's own page too, and the inline shows the field.
    own = reverse("admin:therapies_approval_change", args=[approval.pk])
    response = post_back(editor_client, own, date_precision="YEAR")
    assert response.status_code == 200
    assert YEAR_STARTS_ON_JANUARY_1 in response.content.decode()
    assert (
        post_back(
            editor_client, own, date_precision="YEAR", date="1996-01-01"
        ).status_code
        == 302
    )
    approval.refresh_from_db()
    assert (approval.date, approval.date_precision) == (date(1996, 1, 1), "YEAR")
    assert (
        'name="approvals-0-date_precision"' in editor_client.get(url).content.decode()
    )
    listed = editor_client.get(reverse("admin:therapies_approval_changelist"))
    assert "column-date_precision" in listed.content.decode()
