"""Review in the admin: accepted claims change through revisions an independent
editor accepts, review buttons never lose edits, reverts are whole."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from her2db.operations import operation
from tests.conftest import (
    _user_in,
    make_agent,
    make_approval,
    make_citation,
    make_evidence,
    make_mechanism,
    make_target,
    make_trial,
)
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


def form_data(response) -> dict:
    """What the browser would post back for a change page, untouched."""
    data = {}

    def put(form, name):
        value = form[name].value()
        if value is None or value is False:
            return
        if value is True:
            value = "on"
        elif isinstance(value, list | tuple):
            value = [str(v) for v in value]
        else:
            value = str(value)
        data[form.add_prefix(name)] = value

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for row in formset.forms:
            for name in row.fields:
                put(row, name)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(evidence) -> str:
    return reverse("admin:therapies_evidence_change", args=[evidence.pk])


@pytest.fixture
def author(db):
    """The curator who created and submitted the accepted claim."""
    return _user_in("Curators", "author")


@pytest.fixture
def accepted(author):
    with operation():
        return make_evidence(status=S.ACCEPTED, created_by=author)


@pytest.fixture
def second_editor(db):
    return _user_in("Editors", "second-editor")


def propose_in_admin(client, evidence, **changes):
    page = client.get(change_url(evidence))
    data = form_data(page) | changes
    return client.post(change_url(evidence), data)


def test_editing_an_accepted_claim_proposes_a_revision_readers_do_not_see(
    curator_client, curator, anon, accepted
):
    public = f"/api/v1/evidence/{accepted.uid}/"
    before = anon.get(public)
    assert before.status_code == 200
    history_rows = accepted.history.count()

    response = propose_in_admin(
        curator_client,
        accepted,
        statement="A stronger claim.",
        level="B",
        **{"evidence_citations-0-quote": "new words"},
        change_reason="new trial data",
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    assert response["Location"] == change_url(accepted)
    revision = Revision.objects.get()
    assert messages_of(response) == [
        f"Saved as revision {revision.pk}, waiting for an editor's review. "
        "Readers see the accepted claim until then."
    ]
    assert (revision.created_by, revision.status, revision.note) == (
        curator,
        Revision.Status.SUBMITTED,
        "new trial data",
    )
    assert revision.changed == ["citations", "level", "statement"]
    assert anon.get(public).content == before.content
    accepted.refresh_from_db()
    assert (accepted.statement, accepted.level) != ("A stronger claim.", "B")
    assert accepted.evidence_citations.get().quote == ""
    assert accepted.history.count() == history_rows

    page = curator_client.get(change_url(accepted))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("admin:therapies_revision_change", args=[revision.pk]) in body
    assert "citations, level, statement" in body


def test_an_independent_editor_accepts_the_revision_and_readers_see_it(
    curator_client, editor_client, editor, anon, accepted
):
    propose_in_admin(curator_client, accepted, statement="Revised words.", level="C")
    revision = Revision.objects.get()
    url = reverse("admin:therapies_revision_change", args=[revision.pk])

    page = editor_client.get(url)
    assert page.status_code == 200
    assert page.context["can_accept"] and page.context["can_reject"]
    changed = {row["name"] for row in page.context["rows"] if row["changed"]}
    assert changed == {"level", "statement"}
    level = next(row for row in page.context["rows"] if row["name"] == "level")
    assert (level["current"], level["proposed"]) == (
        ["D: preclinical"],
        ["C: case study"],
    )
    assert 'name="_accept"' in page.content.decode()

    response = editor_client.post(url, {"_accept": "Accept and apply"})
    assert response.status_code == 302
    revision.refresh_from_db()
    assert (revision.status, revision.reviewed_by) == (
        Revision.Status.ACCEPTED,
        editor,
    )
    shown = anon.get(f"/api/v1/evidence/{accepted.uid}/").json()
    assert (shown["statement"], shown["level"]) == ("Revised words.", "C")
    # Accepted revisions leave the claim page's list.
    assert list(curator_client.get(change_url(accepted)).context["revisions"]) == []


def test_the_author_is_not_offered_accept_and_a_forced_accept_is_refused(
    editor_client, editor, anon, accepted
):
    before = anon.get(f"/api/v1/evidence/{accepted.uid}/").content
    propose_in_admin(editor_client, accepted, level="A")
    revision = Revision.objects.get(created_by=editor)
    url = reverse("admin:therapies_revision_change", args=[revision.pk])

    page = editor_client.get(url)
    assert not page.context["can_accept"]
    assert 'name="_accept"' not in page.content.decode()
    assert "another editor must accept it" in page.content.decode()

    forced = editor_client.post(url, {"_accept": "Accept and apply"})
    assert forced.status_code == 302
    assert messages_of(forced) == ["Not accepted: Nobody accepts their own revision."]
    revision.refresh_from_db()
    assert revision.status == Revision.Status.SUBMITTED
    assert anon.get(f"/api/v1/evidence/{accepted.uid}/").content == before


def test_a_curator_is_offered_neither_accept_nor_reject(curator_client, accepted):
    revision = Revision.propose(accepted, {"level": "B"}, _user_in("Editors", "e2"))
    url = reverse("admin:therapies_revision_change", args=[revision.pk])
    page = curator_client.get(url)
    assert page.status_code == 200
    assert not (page.context["can_accept"] or page.context["can_reject"])
    curator_client.post(url, {"_accept": "Accept and apply"})
    curator_client.post(url, {"_reject": "Reject", "reason": "no"})
    revision.refresh_from_db()
    assert revision.status == Revision.Status.SUBMITTED


def test_rejecting_a_revision_needs_a_reason_and_keeps_it(
    curator_client, editor_client, editor, accepted
):
    propose_in_admin(curator_client, accepted, level="A")
    revision = Revision.objects.get()
    url = reverse("admin:therapies_revision_change", args=[revision.pk])

    again = editor_client.post(url, {"_reject": "Reject", "reason": "  "})
    assert again.status_code == 200
    assert again.context["reject_form"].errors["reason"]
    revision.refresh_from_db()
    assert revision.status == Revision.Status.SUBMITTED

    done = editor_client.post(
        url, {"_reject": "Reject", "reason": "Level A needs RCTs"}
    )
    assert done.status_code == 302
    revision.refresh_from_db()
    assert (revision.status, revision.reason) == (
        Revision.Status.REJECTED,
        "Level A needs RCTs",
    )
    claim_page = curator_client.get(change_url(accepted)).content.decode()
    assert "Rejected: Level A needs RCTs" in claim_page


def test_accepting_a_revision_of_a_claim_changed_since_shows_why(
    curator_client, editor_client, editor, second_editor, accepted
):
    propose_in_admin(curator_client, accepted, level="A")
    propose_in_admin(curator_client, accepted, level="C")
    first, second = Revision.objects.order_by("pk")
    first.accept(second_editor)
    url = reverse("admin:therapies_revision_change", args=[second.pk])
    page = editor_client.get(url)
    assert page.context["stale"]
    response = editor_client.post(url, {"_accept": "Accept and apply"})
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Not accepted: The claim changed")


def test_revision_queue_filters_by_status(editor_client, curator_client, accepted):
    propose_in_admin(curator_client, accepted, level="A")
    url = reverse("admin:therapies_revision_changelist")
    waiting = editor_client.get(url, {"status__exact": "SUBMITTED"})
    assert waiting.status_code == 200
    assert [r.evidence for r in waiting.context["cl"].result_list] == [accepted]
    done = editor_client.get(url, {"status__exact": "ACCEPTED"})
    assert list(done.context["cl"].result_list) == []


def test_saving_an_accepted_claim_unchanged_proposes_nothing(curator_client, accepted):
    response = propose_in_admin(curator_client, accepted)
    assert response.status_code == 302
    assert not Revision.objects.exists()
    assert messages_of(response) == [
        "Nothing to review: the claim's content is as accepted."
    ]


def test_a_retraction_mark_is_saved_at_once_not_proposed(curator_client, accepted):
    response = propose_in_admin(
        curator_client, accepted, **{"evidence_citations-0-retraction_reviewed": "on"}
    )
    assert response.status_code == 302
    assert accepted.evidence_citations.get().retraction_reviewed
    assert not Revision.objects.exists()


# Review buttons on the claim page.


def test_submit_saves_the_pending_edits_first(curator_client, curator):
    with operation():
        draft = make_evidence(status=S.DRAFT, statement="Old words.")
    page = curator_client.get(change_url(draft))
    assert [a for _, a in page.context["transitions"]] == ["submit"]
    data = form_data(page) | {"statement": "New words.", "_transition": "submit"}

    response = curator_client.post(change_url(draft), data)

    assert response.status_code == 302
    confirm = response["Location"]
    assert confirm.startswith(
        reverse("admin:therapies_evidence_transition", args=["submit"])
    )
    draft.refresh_from_db()
    assert (draft.statement, draft.status) == ("New words.", S.DRAFT)
    done = curator_client.post(confirm, {"reason": ""})
    assert done["Location"] == change_url(draft)
    draft.refresh_from_db()
    assert (draft.statement, draft.status) == ("New words.", S.SUBMITTED)


def test_a_review_button_with_unsaved_edits_is_refused_and_keeps_them(
    editor_client, editor, curator
):
    with operation():
        claim = make_evidence(status=S.DRAFT, created_by=curator)
        claim.transition("submit", curator)
    page = editor_client.get(change_url(claim))
    assert [a for _, a in page.context["transitions"]] == [
        "accept",
        "reject",
        "send_back",
    ]
    data = form_data(page) | {
        "statement": "An editor's rewrite.",
        "_transition": "accept",
    }

    refused = editor_client.post(change_url(claim), data)

    assert refused.status_code == 200
    body = refused.content.decode()
    assert "You have unsaved changes" in body
    assert "An editor&#x27;s rewrite." in body  # the edit is still in the form
    claim.refresh_from_db()
    assert (claim.statement, claim.status) != ("An editor's rewrite.", S.ACCEPTED)
    assert claim.independence_problem(editor) == ""  # nothing saved in their name

    clean = form_data(page) | {"_transition": "accept"}
    confirm = editor_client.post(change_url(claim), clean)
    assert confirm.status_code == 302
    assert claim.history.filter(history_user=editor).count() == 0
    editor_client.post(confirm["Location"], {"reason": ""})
    claim.refresh_from_db()
    assert (claim.status, claim.reviewed_by) == (S.ACCEPTED, editor)


def test_reviewer_buttons_are_offered_only_to_who_may_use_them(
    curator_client, editor_client, editor, curator
):
    with operation():
        own = make_evidence(status=S.DRAFT, created_by=editor)
        own.transition("submit", curator)
    actions = [a for _, a in editor_client.get(change_url(own)).context["transitions"]]
    assert actions == ["reject", "send_back"]  # not accept: the editor created it
    curator_actions = curator_client.get(change_url(own)).context["transitions"]
    assert curator_actions == []

    page = editor_client.get(change_url(own))
    forced = editor_client.post(
        change_url(own), form_data(page) | {"_transition": "accept"}
    )
    assert forced.status_code == 200
    assert "You created this claim" in forced.content.decode()
    own.refresh_from_db()
    assert own.status == S.SUBMITTED


@pytest.mark.parametrize("action", ["reject", "send_back"])
def test_reject_or_send_back_without_a_reason_reshows_the_form(
    editor_client, curator, action
):
    with operation():
        claim = make_evidence(status=S.DRAFT, created_by=curator)
        claim.transition("submit", curator)
    url = reverse("admin:therapies_evidence_transition", args=[action])
    url = f"{url}?ids={claim.pk}&next=claim"
    assert editor_client.get(url).status_code == 200

    response = editor_client.post(url, {"reason": " "})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "A reason is required for this action."
    ]
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED
    done = editor_client.post(url, {"reason": "Needs a second source"})
    assert done["Location"] == change_url(claim)
    claim.refresh_from_db()
    assert claim.status == {"reject": S.REJECTED, "send_back": S.DRAFT}[action]


# Whole reverts.


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
