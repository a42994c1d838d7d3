"""Review in the admin: accepted claims change through revisions an independent
editor accepts, review buttons never lose edits."""

import pytest
from django.urls import reverse

from her2db.operations import operation
from tests.conftest import _user_in, make_evidence
from tests.therapies.admin_pages import change_url, form_data, messages_of
from therapies.models import Evidence, Revision

pytestmark = pytest.mark.django_db

S = Evidence.Status


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
