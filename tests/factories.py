"""Plain make_* factories with unique defaults, one row and what it needs.

Modules that use many of them read them as `factories.make_agent()`.
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from references.models import Author, Citation, CitationAuthor
from therapies import models

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


def make_target(**kw) -> models.Target:
    i = n()
    kw.setdefault("symbol", f"GENE{i}")
    kw.setdefault("name", f"gene {i}")
    return models.Target.objects.create(**kw)


def make_agent(targets: int = 0, brand: str = "", **kw) -> models.Agent:
    i = n()
    kw.setdefault("name", f"agentumab {i}")
    kw.setdefault("slug", f"agentumab-{i}")
    kw.setdefault("modality", models.Agent.Modality.MONOCLONAL_ANTIBODY)
    agent = models.Agent.objects.create(**kw)
    for _ in range(targets):
        models.AgentTarget.objects.create(
            agent=agent,
            target=make_target(),
            action=models.AgentTarget.Action.INHIBITOR,
        )
    if brand:
        models.AgentAlias.objects.create(agent=agent, alias=brand, kind="BRAND")
    return agent


def make_approval(agent=None, **kw) -> models.Approval:
    kw.setdefault("agency", models.Approval.Agency.FDA)
    kw.setdefault("date", date(2020, 1, n() % 28 + 1))
    kw.setdefault("indication", f"indication {n()}")
    return models.Approval.objects.create(agent=agent or make_agent(), **kw)


def make_mechanism(parent=None, genes: int = 0, **kw) -> models.Mechanism:
    i = n()
    kw.setdefault("slug", f"mechanism-{i}")
    kw.setdefault("name", f"Mechanism {i}")
    kw.setdefault("category", parent.category if parent else "HER_RECEPTOR")
    mechanism = models.Mechanism.objects.create(parent=parent, **kw)
    for _ in range(genes):
        mechanism.genes.add(make_target())
    return mechanism


def make_trial(arms: int = 0, publications=(), **kw) -> models.Trial:
    i = n()
    kw.setdefault("nct_id", f"NCT{i:08d}")
    kw.setdefault("acronym", f"TRIAL{i}")
    kw.setdefault("title", f"Trial {i}")
    trial = models.Trial.objects.create(**kw)
    for a in range(arms):
        arm = models.TrialArm.objects.create(trial=trial, label=f"Arm {a + 1}")
        arm.agents.add(make_agent())
    trial.publications.add(*publications)
    return trial


def make_evidence(
    agents=None, mechanism=None, citations=None, trials=(), **kw
) -> models.Evidence:
    kw.setdefault("effect", models.Evidence.Effect.CONFERS_RESISTANCE)
    kw.setdefault("level", models.Evidence.Level.D)
    kw.setdefault("model_system", models.Evidence.ModelSystem.CELL_LINE)
    kw.setdefault("statement", f"Claim number {n()}.")
    kw.setdefault("status", models.Evidence.Status.ACCEPTED)
    evidence = models.Evidence.objects.create(
        mechanism=mechanism or make_mechanism(), **kw
    )
    evidence.agents.set(agents or [make_agent()])
    for citation in citations or [make_citation()]:
        models.EvidenceCitation.objects.create(evidence=evidence, citation=citation)
    evidence.trials.add(*trials)
    return evidence


def errors_of(obj) -> dict:
    """The messages full_clean() raises for obj, by field; fails if it passes."""
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    return info.value.message_dict


def make_outcome(trial=None, arms: bool = True, **kw) -> models.Outcome:
    """An outcome of `trial` (or a new two-arm trial) with a value per arm."""
    trial = trial or make_trial(arms=2)
    kw.setdefault("endpoint", models.Outcome.Endpoint.PFS)
    kw.setdefault("analysis", models.Outcome.Analysis.PRIMARY)
    kw.setdefault("measure", models.Outcome.Measure.HAZARD_RATIO)
    kw.setdefault("estimate", Decimal("0.5"))
    kw.setdefault("ci_lower", Decimal("0.4"))
    kw.setdefault("ci_upper", Decimal("0.6"))
    kw.setdefault("p_value", Decimal("0.001"))
    kw.setdefault("citation", make_citation())
    kw.setdefault("locator", f"Table {n()}")
    outcome = models.Outcome.objects.create(trial=trial, **kw)
    for index, arm in enumerate(trial.arms.all() if arms else ()):
        models.OutcomeArmResult.objects.create(
            outcome=outcome,
            arm=arm,
            unit=models.OutcomeArmResult.Unit.MEDIAN_MONTHS,
            value=10 + index,
            ci_lower=8 + index,
            ci_upper=12 + index,
        )
    return outcome
