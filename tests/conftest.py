"""Personas and plain factories shared by the whole suite."""

import itertools
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client

from references.models import Author, Citation, CitationAuthor
from therapies.models import (
    Agent,
    AgentTarget,
    Approval,
    Evidence,
    EvidenceCitation,
    Mechanism,
    Target,
    Trial,
    TrialArm,
)

# The benchmarks (`make bench`) live in tests/bench; none of it is a test.
collect_ignore_glob = ["bench/*"]

_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def make_author(**kw) -> Author:
    i = n()
    kw.setdefault("family_name", f"Family{i}")
    kw.setdefault("given_name", "A")
    return Author.objects.create(**kw)


def make_citation(authors: int = 0, **kw) -> Citation:
    i = n()
    kw.setdefault("citekey", f"Author{i}2020")
    kw.setdefault("title", f"A paper number {i}")
    kw.setdefault("journal", "J Test")
    kw.setdefault("year", 2020)
    citation = Citation.objects.create(**kw)
    for position in range(1, authors + 1):
        CitationAuthor.objects.create(
            citation=citation, author=make_author(), position=position
        )
    return citation


def make_target(**kw) -> Target:
    i = n()
    kw.setdefault("symbol", f"GENE{i}")
    kw.setdefault("name", f"gene {i}")
    return Target.objects.create(**kw)


def make_agent(targets: int = 0, **kw) -> Agent:
    i = n()
    kw.setdefault("name", f"agentumab {i}")
    kw.setdefault("slug", f"agentumab-{i}")
    kw.setdefault("modality", Agent.Modality.MONOCLONAL_ANTIBODY)
    agent = Agent.objects.create(**kw)
    for _ in range(targets):
        AgentTarget.objects.create(
            agent=agent, target=make_target(), action=AgentTarget.Action.INHIBITOR
        )
    return agent


def make_approval(agent=None, **kw) -> Approval:
    kw.setdefault("agency", Approval.Agency.FDA)
    kw.setdefault("date", date(2020, 1, n() % 28 + 1))
    kw.setdefault("indication", f"indication {n()}")
    return Approval.objects.create(agent=agent or make_agent(), **kw)


def make_mechanism(parent=None, genes: int = 0, **kw) -> Mechanism:
    i = n()
    kw.setdefault("slug", f"mechanism-{i}")
    kw.setdefault("name", f"Mechanism {i}")
    kw.setdefault("category", parent.category if parent else "HER_RECEPTOR")
    mechanism = Mechanism.objects.create(parent=parent, **kw)
    for _ in range(genes):
        mechanism.genes.add(make_target())
    return mechanism


def make_trial(arms: int = 0, **kw) -> Trial:
    i = n()
    kw.setdefault("nct_id", f"NCT{i:08d}")
    kw.setdefault("acronym", f"TRIAL{i}")
    kw.setdefault("title", f"Trial {i}")
    trial = Trial.objects.create(**kw)
    for a in range(arms):
        arm = TrialArm.objects.create(trial=trial, label=f"Arm {a + 1}")
        arm.agents.add(make_agent())
    return trial


def make_evidence(agents=None, mechanism=None, citations=None, **kw) -> Evidence:
    kw.setdefault("effect", Evidence.Effect.CONFERS_RESISTANCE)
    kw.setdefault("level", Evidence.Level.D)
    kw.setdefault("model_system", Evidence.ModelSystem.CELL_LINE)
    kw.setdefault("statement", f"Claim number {n()}.")
    kw.setdefault("status", Evidence.Status.ACCEPTED)
    evidence = Evidence.objects.create(mechanism=mechanism or make_mechanism(), **kw)
    evidence.agents.set(agents or [make_agent()])
    for citation in citations or [make_citation()]:
        EvidenceCitation.objects.create(evidence=evidence, citation=citation)
    return evidence


def errors_of(obj) -> dict:
    """The messages full_clean() raises for obj, by field; fails if it passes."""
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    return info.value.message_dict


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Personas' passwords are never used: skip the deliberate slowness."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user_in(group: str | None, username: str) -> User:
    user = User.objects.create_user(username=username, password="pw-not-used-12345")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def curator(db) -> User:
    return _user_in("Curators", "curator")


@pytest.fixture
def editor(db) -> User:
    return _user_in("Editors", "editor")


@pytest.fixture
def nobody(db) -> User:
    """A logged-in account with no rights at all."""
    return _user_in(None, "nobody")


def staff_client(user: User) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def curator_client(curator) -> Client:
    return staff_client(curator)


@pytest.fixture
def editor_client(editor) -> Client:
    return staff_client(editor)
