"""The single-record rules in the admin: the same ones the API and check_data hold."""

import pytest
from django.urls import reverse

from tests import factories
from tests.therapies.admin_pages import form_data
from therapies.models import Agent, Approval, TrialArm
from therapies.rules import NO_AGENTS, NO_APPROVAL, NO_ARMS

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


def test_an_approved_agent_keeps_its_last_approval(editor_client):
    agent = factories.make_agent(development_status=Agent.Status.APPROVED)
    factories.make_approval(agent)
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    response = post_back(editor_client, url, **{"approvals-0-DELETE": "on"})
    assert response.status_code == 200
    assert NO_APPROVAL in response.content.decode()
    assert Approval.objects.filter(agent=agent).count() == 1
