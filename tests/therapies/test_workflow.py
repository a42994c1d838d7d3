"""Evidence review: every allowed and refused transition by role, reasons,
self-acceptance, visibility, retraction flags, and the admin's conflict guard."""

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from her2db.operations import operation
from references.models import Citation
from tests.conftest import _user_in, make_citation, make_evidence, make_target
from therapies.models import Evidence, EvidenceCitation

pytestmark = pytest.mark.django_db

S = Evidence.Status
ALL_STATES = [S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.RETIRED]
# (action, from, to, who may, reason required)
ALLOWED = {
    ("submit", S.DRAFT): (S.SUBMITTED, "curator"),
    ("accept", S.SUBMITTED): (S.ACCEPTED, "editor"),
    ("reject", S.SUBMITTED): (S.REJECTED, "editor"),
    ("send_back", S.SUBMITTED): (S.DRAFT, "editor"),
    ("retire", S.ACCEPTED): (S.RETIRED, "editor"),
    ("revise", S.REJECTED): (S.DRAFT, "curator"),
}
NEEDS_REASON = {"reject", "send_back", "retire"}


def claim(status) -> Evidence:
    return make_evidence(status=status)


@pytest.mark.parametrize("action", list(Evidence.TRANSITIONS))
@pytest.mark.parametrize("state", ALL_STATES)
def test_transition_table(action, state, curator, editor):
    evidence = claim(state)
    reason = "because" if action in NEEDS_REASON else ""
    if (action, state) not in ALLOWED:
        with pytest.raises(ValidationError, match="Cannot"):
            evidence.transition(action, editor, reason)
        evidence.refresh_from_db()
        assert evidence.status == state
        return
    target, role = ALLOWED[(action, state)]
    evidence.transition(action, {"curator": curator, "editor": editor}[role], reason)
    evidence.refresh_from_db()
    assert evidence.status == target
    latest = evidence.history.latest()
    assert latest.history_user == {"curator": curator, "editor": editor}[role]
    assert latest.history_change_reason.startswith(action)


@pytest.mark.parametrize("action", ["accept", "reject", "send_back", "retire"])
def test_curators_cannot_review(action, curator):
    evidence = claim(S.ACCEPTED if action == "retire" else S.SUBMITTED)
    with pytest.raises(PermissionDenied):
        evidence.transition(action, curator, "reason")


def test_a_user_without_rights_cannot_submit(nobody):
    with pytest.raises(PermissionDenied):
        claim(S.DRAFT).transition("submit", nobody)


@pytest.mark.parametrize("action", sorted(NEEDS_REASON))
def test_reason_is_required(action, editor):
    evidence = claim(S.ACCEPTED if action == "retire" else S.SUBMITTED)
    with pytest.raises(ValidationError, match="reason"):
        evidence.transition(action, editor, "  ")


def test_the_creator_may_not_accept_even_when_someone_else_submitted(editor, curator):
    evidence = make_evidence(status=S.DRAFT, created_by=editor)
    evidence.transition("submit", curator)
    assert "accept" not in evidence.allowed_transitions(editor)
    with pytest.raises(PermissionDenied, match="You created this claim"):
        evidence.transition("accept", editor)


def change_as(user, row, **values) -> None:
    """Save a change to a row as this user, in the history."""
    with operation():
        for name, value in values.items():
            setattr(row, name, value)
        row._history_user = user
        row.save()


def test_whoever_changed_a_submitted_claim_may_not_accept_it(curator):
    reviser = _user_in("Editors", "reviser")
    evidence = claim(S.DRAFT)
    evidence.transition("submit", curator)
    change_as(reviser, evidence, statement="Rewritten by the reviewer.")
    with pytest.raises(PermissionDenied, match="You changed this claim"):
        evidence.transition("accept", reviser)
    link = evidence.evidence_citations.get()
    second = _user_in("Editors", "quoter")
    change_as(second, link, quote="changed words")
    with pytest.raises(PermissionDenied, match="You changed this claim"):
        evidence.transition("accept", second)
    evidence.transition("accept", _user_in("Editors", "independent"))
    assert evidence.status == S.ACCEPTED


def test_superusers_are_held_to_independent_review(curator):
    root = User.objects.create_superuser("root", "root@example.org", "x")
    evidence = make_evidence(status=S.DRAFT, created_by=root)
    evidence.transition("submit", curator)
    with pytest.raises(PermissionDenied, match="You created this claim"):
        evidence.transition("accept", root)
    evidence = make_evidence(status=S.DRAFT)
    evidence.transition("submit", root)
    with pytest.raises(PermissionDenied, match="You submitted this claim"):
        evidence.transition("accept", root)


def test_nobody_accepts_their_own_submission(editor):
    evidence = claim(S.DRAFT)
    evidence.transition("submit", editor)
    assert "accept" not in evidence.allowed_transitions(editor)
    with pytest.raises(PermissionDenied, match="You submitted this claim"):
        evidence.transition("accept", editor)
    other = _user_in("Editors", "second-editor")
    evidence.transition("accept", other)
    evidence.refresh_from_db()
    assert (evidence.status, evidence.submitted_by, evidence.reviewed_by) == (
        S.ACCEPTED,
        editor,
        other,
    )


def test_only_accepted_evidence_is_visible_to_anonymous_readers(curator):
    visible = claim(S.ACCEPTED)
    hidden = [claim(s) for s in ALL_STATES if s != S.ACCEPTED]
    assert list(Evidence.objects.visible_to(AnonymousUser())) == [visible]
    assert set(Evidence.objects.visible_to(curator)) == {visible, *hidden}


def test_retraction_flag_appears_and_clears(curator_client):
    citation = make_citation()
    evidence = make_evidence(citations=[citation])
    assert not Evidence.objects.citing_retracted().exists()
    Citation.objects.filter(pk=citation.pk).update(retracted=True)
    assert list(Evidence.objects.citing_retracted()) == [evidence]
    url = reverse("admin:therapies_evidence_changelist")
    response = curator_client.get(url, {"retracted": "yes"})
    assert list(response.context["cl"].result_list) == [evidence]
    EvidenceCitation.objects.filter(evidence=evidence).update(retraction_reviewed=True)
    assert not Evidence.objects.citing_retracted().exists()
    response = curator_client.get(url, {"retracted": "yes"})
    assert list(response.context["cl"].result_list) == []


def test_a_curator_and_an_editor_carry_a_claim_to_public_in_the_admin(curator, editor):
    evidence = claim(S.DRAFT)
    for user in (curator, editor):
        user.is_staff = True
        user.save()
    curator_client, editor_client = Client(), Client()
    curator_client.force_login(curator)
    editor_client.force_login(editor)

    change = reverse("admin:therapies_evidence_change", args=[evidence.pk])
    assert b"Submit" in curator_client.get(change).content
    submit = reverse("admin:therapies_evidence_transition", args=["submit"])
    curator_client.post(f"{submit}?ids={evidence.pk}", {"reason": ""})
    evidence.refresh_from_db()
    assert evidence.status == S.SUBMITTED

    accept = reverse("admin:therapies_evidence_transition", args=["accept"])
    forbidden = curator_client.post(f"{accept}?ids={evidence.pk}", {"reason": ""})
    assert forbidden.status_code == 302
    evidence.refresh_from_db()
    assert evidence.status == S.SUBMITTED  # curators cannot accept

    editor_client.post(f"{accept}?ids={evidence.pk}", {"reason": ""})
    evidence.refresh_from_db()
    assert evidence.status == S.ACCEPTED
    assert evidence.reviewed_by == editor


def test_bulk_reject_through_the_admin_action_needs_a_reason(editor_client, editor):
    claims = [claim(S.SUBMITTED) for _ in range(3)]
    changelist = reverse("admin:therapies_evidence_changelist")
    response = editor_client.post(
        changelist,
        {"action": "transition_reject", "_selected_action": [c.pk for c in claims]},
    )
    assert response.status_code == 302
    confirm = response["Location"]
    editor_client.post(confirm, {"reason": ""})
    assert Evidence.objects.filter(status=S.REJECTED).count() == 0
    editor_client.post(confirm, {"reason": "Cell-line data only"})
    assert Evidence.objects.filter(status=S.REJECTED).count() == 3
    assert {c.status_reason for c in Evidence.objects.all()} == {"Cell-line data only"}


def test_second_of_two_concurrent_admin_saves_is_refused(curator):
    second = _user_in("Curators", "second-curator")
    target = make_target(symbol="ERBB2", name="original")
    url = reverse("admin:therapies_target_change", args=[target.pk])
    clients = []
    for user in (curator, second):
        user.is_staff = True
        user.save()
        c = Client()
        c.force_login(user)
        clients.append(c)
    # Both open the page, each form carries the token of what they saw.
    tokens = [
        c.get(url).context["adminform"].form["edit_token"].value() for c in clients
    ]

    def post(c, token, name):
        data = {
            "symbol": "ERBB2",
            "name": name,
            "aliases": "",
            "hgnc_id": "",
            "uniprot_id": "",
            "change_reason": "",
            "edit_token": token,
        }
        return c.post(url, data)

    assert post(clients[0], tokens[0], "first curator's name").status_code == 302
    refused = post(clients[1], tokens[1], "second curator's name")
    assert refused.status_code == 200
    assert "changed by curator" in refused.content.decode()
    target.refresh_from_db()
    assert target.name == "first curator's name"
