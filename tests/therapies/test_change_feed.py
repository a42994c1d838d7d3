"""The change feed records public changes and never leaks unpublished ones."""

import pytest

from her2db.operations import operation
from tests.conftest import make_agent, make_citation, make_evidence
from therapies.models import AgentAlias, ChangeEntry, Evidence, EvidenceCitation

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
    agent.abbreviation = "TMB"
    agent.save()
    agent.save()  # nothing changed: no entry
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


def test_drafts_never_reach_the_feed(curator, editor):
    evidence = make_evidence(status=Evidence.Status.DRAFT)
    evidence.statement = "Edited while a draft."
    evidence.save()
    EvidenceCitation.objects.create(evidence=evidence, citation=make_citation())
    evidence.transition("submit", curator)
    assert feed("evidence") == []

    evidence.transition("accept", editor)
    uid = str(evidence.uid)
    assert feed("evidence") == [("evidence", uid, "created", [])]

    evidence.statement = "Edited after publication."
    evidence.save()
    evidence.transition("retire", editor, "superseded")
    evidence.statement = "Edited after retirement."
    evidence.save()
    assert feed("evidence") == [
        ("evidence", uid, "created", []),
        ("evidence", uid, "updated", ["statement"]),
        ("evidence", uid, "deleted", []),
    ]


def test_citation_edits_of_accepted_claims_are_reported_on_the_claim(editor):
    evidence = make_evidence(status=Evidence.Status.ACCEPTED)
    ChangeEntry.objects.all().delete()
    with operation():
        link = EvidenceCitation.objects.create(
            evidence=evidence, citation=make_citation()
        )
    with operation():
        link.quote = "exact words"
        link.save()
    assert feed("evidence") == [
        ("evidence", str(evidence.uid), "updated", ["citations"]),
        ("evidence", str(evidence.uid), "updated", ["citations"]),
    ]


def test_relation_changes_of_an_accepted_claim_name_the_relation():
    evidence = make_evidence(status=Evidence.Status.ACCEPTED)
    ChangeEntry.objects.all().delete()
    evidence.agents.add(make_agent())
    assert feed("evidence") == [("evidence", str(evidence.uid), "updated", ["agents"])]
