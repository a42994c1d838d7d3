"""Reverts in the admin are whole: a version comes back with its links, or is
not offered; an accepted claim's revert is a revision."""

import pytest
from django.urls import reverse

from her2db.operations import operation
from tests.conftest import (
    make_agent,
    make_approval,
    make_citation,
    make_evidence,
    make_mechanism,
    make_target,
    make_trial,
)
from tests.therapies.admin_pages import form_data, messages_of
from therapies.models import (
    AgentAlias,
    AgentTarget,
    Approval,
    Evidence,
    Revision,
    TrialArm,
)

pytestmark = pytest.mark.django_db

S = Evidence.Status


def revert(client, record, **changes):
    model = record.instance_type._meta
    url = reverse(
        f"admin:{model.app_label}_{model.model_name}_simple_history",
        args=[record.id, record.history_id],
    )
    page = client.get(url)
    assert page.status_code == 200
    return page, client.post(url, form_data(page) | changes)


def test_reverting_an_agent_restores_its_aliases_targets_and_approvals(
    curator_client, curator
):
    with operation():
        agent = make_agent(name="tucatinib", slug="tucatinib", targets=1)
        AgentAlias.objects.create(agent=agent, alias="Tukysa", kind="BRAND")
        approval = make_approval(agent=agent, indication="HER2+ MBC")
    first = agent.history.earliest()
    target = agent.targets.get()

    # A curator renames the alias and drops the approval and target in the admin.
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    page = curator_client.get(url)
    data = form_data(page) | {
        "aliases-0-alias": "Tukysa-typo",
        "agent_targets-0-DELETE": "on",
        "approvals-0-DELETE": "on",
    }
    assert curator_client.post(url, data).status_code == 302
    assert list(agent.aliases.values_list("alias", flat=True)) == ["Tukysa-typo"]
    assert not agent.targets.exists() and not agent.approvals.exists()

    page, response = revert(curator_client, first)
    steps = page.context["revert_plan"].descriptions
    assert "alias Tukysa-typo restored to Tukysa (alias)" in steps
    assert any(s.startswith("approval") and s.endswith("added back") for s in steps)
    assert response.status_code == 302

    assert list(agent.aliases.values_list("alias", "kind")) == [("Tukysa", "BRAND")]
    assert list(agent.targets.all()) == [target]
    assert AgentTarget.objects.get(agent=agent).action == AgentTarget.Action.INHIBITOR
    restored = agent.approvals.get()
    assert (restored.pk, restored.indication) == (approval.pk, "HER2+ MBC")

    history = curator_client.get(
        reverse("admin:therapies_agent_history", args=[agent.pk])
    )
    assert history.status_code == 200
    changes = [c for entry in history.context["timeline"] for c in entry.changes]
    assert "alias Tukysa changed (alias: 'Tukysa' → 'Tukysa-typo')" in changes
    assert "alias Tukysa-typo changed (alias: 'Tukysa-typo' → 'Tukysa')" in changes
    assert any(c.startswith("approval") and c.endswith("removed") for c in changes)
    latest = history.context["timeline"][0]
    assert latest.users == [curator]
    assert latest.reasons[0].startswith("reverted to the version of")
    assert "alias Tukysa changed" in history.content.decode()
    # The revert's own history row lists what it did to the owned rows.
    revert_row = history.context["page_obj"][0]
    assert revert_row.history_change_reason.startswith("reverted to the version of")
    assert "alias Tukysa-typo changed (alias: 'Tukysa-typo' → 'Tukysa')" in (
        revert_row.owned_changes
    )


def test_reverting_a_trial_restores_its_arms_with_their_agents(curator_client):
    x, y, z = make_agent(), make_agent(), make_agent()
    with operation():
        trial = make_trial()
        arm_a = TrialArm.objects.create(trial=trial, label="A")
        arm_a.agents.add(x)
        arm_b = TrialArm.objects.create(
            trial=trial, label="B", role="ACTIVE_COMPARATOR"
        )
        arm_b.agents.add(y)
    first = trial.history.earliest()
    with operation():
        arm_b.delete()
        arm_a.agents.set([z])

    page, response = revert(curator_client, first)
    assert response.status_code == 302
    arms = {arm.label: arm for arm in trial.arms.all()}
    assert set(arms) == {"A", "B"}
    assert list(arms["A"].agents.all()) == [x]
    assert list(arms["B"].agents.all()) == [y]
    assert arms["B"].role == "ACTIVE_COMPARATOR"
    timeline = curator_client.get(
        reverse("admin:therapies_trial_history", args=[trial.pk])
    ).context["timeline"]
    changes = [c for entry in timeline for c in entry.changes]
    assert f"arm {trial}: B removed" in changes
    assert f"arm {trial}: B added" in changes


def test_reverting_a_citation_restores_its_authors(curator_client):
    with operation():
        citation = make_citation(authors=2)
    first = citation.history.earliest()
    authors = list(citation.citation_authors.values_list("author_id", "position"))
    with operation():
        citation.citation_authors.filter(position=2).delete()
    page, response = revert(curator_client, first)
    assert response.status_code == 302
    assert list(citation.citation_authors.values_list("author_id", "position")) == (
        authors
    )


def test_a_version_that_cannot_come_back_whole_is_not_offered(curator_client):
    with operation():
        agent = make_agent()
        cited = make_citation()
        make_approval(agent=agent, citation=cited, indication="gone")
    first = agent.history.earliest()
    with operation():
        agent.approvals.get().delete()
        cited.delete()

    page, response = revert(curator_client, first)
    problems = page.context["revert_plan"].problems
    assert len(problems) == 1
    assert "approval" in problems[0] and "no longer exists" in problems[0]
    assert page.context["revert_disabled"]
    assert 'value="Revert"' not in page.content.decode()
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("This version cannot be restored")
    assert not Approval.objects.filter(agent=agent).exists()


def test_reverting_an_accepted_claim_proposes_a_revision(
    curator_client, curator, second_editor, anon, accepted
):
    first = accepted.history.earliest()
    original = accepted.citations.get().citekey
    citation = make_citation()
    content = {
        "level": "B",
        "citations": [{"citation": citation.citekey, "quote": "q", "location": ""}],
    }
    with operation():
        Revision.propose(accepted, content, curator).accept(second_editor)
    before = anon.get(f"/api/v1/evidence/{accepted.uid}/").content

    page, response = revert(curator_client, first)
    assert "proposes this version" in page.content.decode()
    assert response.status_code == 302
    revision = Revision.objects.get(status=Revision.Status.SUBMITTED)
    assert revision.changed == ["citations", "level"]
    assert revision.content["level"] == "D"
    assert revision.content["citations"] == [
        {"citation": original, "quote": "", "location": ""}
    ]
    assert list(accepted.citations.all()) == [citation]
    assert anon.get(f"/api/v1/evidence/{accepted.uid}/").content == before


def test_reverting_a_draft_claim_restores_its_citations_and_agents(curator_client):
    kept, dropped = make_citation(), make_citation()
    agent = make_agent()
    with operation():
        draft = make_evidence(status=S.DRAFT, citations=[kept, dropped], agents=[agent])
    first = draft.history.earliest()
    with operation():
        draft.evidence_citations.filter(citation=dropped).delete()
        draft.agents.set([make_agent()])
    page, response = revert(curator_client, first)
    assert response.status_code == 302
    assert set(draft.citations.all()) == {kept, dropped}
    assert list(draft.agents.all()) == [agent]


def test_history_page_of_every_owner_answers(curator_client):
    agent = make_agent(targets=1)
    with operation():
        AgentAlias.objects.create(agent=agent, alias="Enhertu", kind="BRAND")
    page = curator_client.get(reverse("admin:therapies_agent_history", args=[agent.pk]))
    assert page.status_code == 200
    assert "alias Enhertu added" in page.content.decode()
    target = make_target()
    page = curator_client.get(
        reverse("admin:therapies_target_history", args=[target.pk])
    )
    assert page.status_code == 200


def test_reverting_a_mechanism_relinks_its_genes(curator_client):
    with operation():
        mechanism = make_mechanism(genes=2)
    genes = set(mechanism.genes.all())
    first = mechanism.history.earliest()
    with operation():
        mechanism.genes.set([make_target()])
    page, response = revert(curator_client, first)
    assert response.status_code == 302
    assert set(mechanism.genes.all()) == genes


def test_curators_are_not_offered_reviewer_bulk_actions(curator_client, editor_client):
    make_evidence()
    url = reverse("admin:therapies_evidence_changelist")
    offered = {
        name: set(client.get(url).context["action_form"].fields["action"].choices)
        for name, client in (("curator", curator_client), ("editor", editor_client))
    }
    names = {k: {choice[0] for choice in v} for k, v in offered.items()}
    assert "transition_submit" in names["curator"]
    assert "transition_accept" not in names["curator"]
    assert {"transition_accept", "transition_reject"} <= names["editor"]


def test_a_row_the_database_would_refuse_is_named_and_revert_not_offered(
    curator_client,
):
    with operation():
        agent = make_agent()
        AgentAlias.objects.create(agent=agent, alias="Tukysa", kind="BRAND")
    first = agent.history.earliest()
    with operation():
        agent.aliases.get().delete()
        AgentAlias.objects.create(agent=make_agent(), alias="tukysa")

    page, response = revert(curator_client, first)
    problems = page.context["revert_plan"].problems
    assert len(problems) == 1 and problems[0].startswith("alias Tukysa added back: ")
    assert 'value="Revert"' not in page.content.decode()
    assert response.status_code == 302
    assert not agent.aliases.exists()


def test_accepting_a_revision_whose_mechanism_is_gone_is_a_message_not_an_error(
    editor_client, curator, accepted
):
    mechanism = make_mechanism()
    revision = Revision.propose(accepted, {"mechanism": mechanism.slug}, curator)
    mechanism.delete()
    url = reverse("admin:therapies_revision_change", args=[revision.pk])
    response = editor_client.post(url, {"_accept": "Accept and apply"})
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Not accepted: Mechanism")
    revision.refresh_from_db()
    assert revision.status == Revision.Status.SUBMITTED


def test_a_version_approved_without_an_approval_is_not_brought_back(curator_client):
    """A version from before the rule (marked approved, no approval on record)
    would leave the agent approved without one: revert is not offered."""
    from therapies.models import Agent

    with operation():
        agent = make_agent(development_status=Agent.Status.APPROVED)
    first = agent.history.earliest()
    with operation():
        make_approval(agent=agent, indication="HER2+ MBC")

    page, response = revert(curator_client, first)
    problems = page.context["revert_plan"].problems
    assert any("approved" in problem for problem in problems), problems
    assert page.context["revert_disabled"]
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("This version cannot be restored")
    assert agent.approvals.count() == 1

    # A version that was approved with its approval comes back whole.
    with operation():
        agent.abbreviation = "AGT"
        agent.save()
    second = agent.history.latest()
    with operation():
        make_approval(agent=agent, indication="HER2+ EBC")
    page, response = revert(curator_client, second)
    assert page.context["revert_plan"].problems == []
    assert response.status_code == 302
    assert list(agent.approvals.values_list("indication", flat=True)) == ["HER2+ MBC"]
