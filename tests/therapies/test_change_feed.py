"""The change feed records public changes and never leaks unpublished ones."""

from datetime import date

import pytest

from her2db.operations import operation
from tests.conftest import make_agent, make_approval, make_citation, make_evidence
from therapies.models import (
    AgentAlias,
    Approval,
    ChangeEntry,
    Evidence,
    EvidenceCitation,
    Revision,
)
from therapies.models.review import ReviewRequired, content_of

pytestmark = pytest.mark.django_db


def feed(kind=None):
    entries = ChangeEntry.objects.all()
    if kind:
        entries = entries.filter(kind=kind)
    return [(e.kind, e.identifier, e.action, e.fields) for e in entries]


def test_rows_added_with_a_new_record_are_part_of_its_creation():
    agent = make_agent(slug="newumab", name="newumab", targets=2)
    AgentAlias.objects.create(agent=agent, alias="Newra")
    assert feed("agent") == [("agent", "newumab", "created", [])]


def test_create_update_delete_of_an_agent():
    agent = make_agent(slug="testumab", name="testumab")
    agent.abbreviation = "TMA"
    agent.save()  # part of its creation: one operation
    with operation():
        agent.abbreviation = "TMB"
        agent.save()
        agent.save()  # nothing more changed: still one entry
    with operation():  # a later edit, not part of the creation
        AgentAlias.objects.create(agent=agent, alias="Testra")
    with operation():
        agent.aliases.all().delete()
    with operation():
        agent.delete()
    assert feed("agent") == [
        ("agent", "testumab", "created", []),
        ("agent", "testumab", "updated", ["abbreviation"]),
        ("agent", "testumab", "updated", ["aliases"]),
        ("agent", "testumab", "updated", ["aliases"]),
        ("agent", "testumab", "deleted", []),
    ]


def test_an_approvals_date_precision_is_a_change_of_its_agents_approvals():
    agent = make_agent(slug="docetaxel", name="docetaxel")
    approval = make_approval(agent, date=date(1996, 5, 1))
    with operation():
        approval.date_precision = Approval.Precision.MONTH
        approval.save()
    assert feed("agent")[-1] == ("agent", "docetaxel", "updated", ["approvals"])


def test_drafts_never_reach_the_feed(curator, editor):
    evidence = make_evidence(status=Evidence.Status.DRAFT)
    evidence.statement = "Edited while a draft."
    evidence.save()
    EvidenceCitation.objects.create(evidence=evidence, citation=make_citation())
    evidence.transition("submit", curator)
    assert feed("evidence") == []

    with operation():
        evidence.transition("accept", editor)
    uid = str(evidence.uid)
    assert feed("evidence") == [("evidence", uid, "created", [])]

    with operation(), pytest.raises(ReviewRequired):
        evidence.statement = "Edited in place."
        evidence.save()
    evidence.refresh_from_db()
    content = content_of(evidence) | {"statement": "Edited after publication."}
    with operation():
        Revision.propose(evidence, content, curator).accept(editor)
    evidence.refresh_from_db()
    with operation():
        evidence.transition("retire", editor, "superseded")
    with operation():
        evidence.statement = "Edited after retirement."
        evidence.save()
    assert feed("evidence") == [
        ("evidence", uid, "created", []),
        ("evidence", uid, "updated", ["statement"]),
        ("evidence", uid, "deleted", []),
    ]


def test_an_accepted_revision_is_one_update_of_the_claim(curator, editor):
    evidence = make_evidence(status=Evidence.Status.ACCEPTED)
    ChangeEntry.objects.all().delete()
    content = content_of(evidence)
    content["statement"] = "Revised."
    content["citations"].append(
        {"citation": make_citation().citekey, "quote": "exact words", "location": ""}
    )
    with operation():
        revision = Revision.propose(evidence, content, curator)
    assert feed("evidence") == []
    with operation():
        revision.accept(editor)
    assert feed("evidence") == [
        ("evidence", str(evidence.uid), "updated", ["citations", "statement"]),
    ]


def test_relation_changes_of_an_accepted_claim_name_the_relation():
    evidence = make_evidence(status=Evidence.Status.ACCEPTED)
    ChangeEntry.objects.all().delete()
    evidence.agents.add(make_agent())
    assert feed("evidence") == [("evidence", str(evidence.uid), "updated", ["agents"])]
