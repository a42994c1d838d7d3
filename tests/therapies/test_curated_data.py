"""The shipped data set loads, holds what the curated-data issue asks, and is
clean by check_data's rules."""

import pytest
from django.core.management import CommandError, call_command

from her2db.operations import operation
from references.models import Author, Citation
from tests.conftest import make_author, make_mechanism, make_trial
from therapies.checks import find_problems
from therapies.models import (
    Agent,
    ChangeEntry,
    Evidence,
    Mechanism,
    Revision,
    Target,
    Trial,
    TrialArm,
)
from therapies.models.review import content_of

pytestmark = pytest.mark.django_db

REQUIRED_AGENTS = [
    "trastuzumab",
    "pertuzumab",
    "pertuzumab-trastuzumab-hyaluronidase",
    "margetuximab",
    "trastuzumab-emtansine",
    "trastuzumab-deruxtecan",
    "trastuzumab-duocarmazine",
    "disitamab-vedotin",
    "lapatinib",
    "neratinib",
    "tucatinib",
    "pyrotinib",
    "afatinib",
    "zanidatamab",
    "everolimus",
    "alpelisib",
    "inavolisib",
    "palbociclib",
    "abemaciclib",
    "ribociclib",
    "fulvestrant",
    "capecitabine",
    "docetaxel",
    "paclitaxel",
    "vinorelbine",
]

REQUIRED_TARGETS = [
    "ERBB2",
    "EGFR",
    "ERBB3",
    "ERBB4",
    "PIK3CA",
    "PTEN",
    "MTOR",
    "CDK4",
    "CDK6",
    "CCND1",
    "ESR1",
    "AXL",
    "MET",
    "IGF1R",
    "FGFR1",
    "SRC",
    "FASN",
    "NRG1",
    "ABCC1",
    "ABCB1",
    "SLC46A3",
    "FCGR3A",
    "FCGR2A",
]

REQUIRED_TRIALS = [
    "CLEOPATRA",
    "APHINITY",
    "KATHERINE",
    "EMILIA",
    "TH3RESA",
    "MARIANNE",
    "DESTINY-Breast01",
    "DESTINY-Breast02",
    "DESTINY-Breast03",
    "DESTINY-Breast04",
    "DAISY",
    "HER2CLIMB",
    "NALA",
    "ExteNET",
    "SOPHIA",
    "TULIP",
    "BOLERO-1",
    "BOLERO-3",
    "NeoALTTO",
    "ALTTO",
    "HERA",
    "NeoSphere",
    "PHOEBE",
    "monarcHER",
    "PATINA",
    "BERENICE",
    "FeDeriCa",
] + ["NSABP B-31", "NCCTG N9831"]

CATEGORIES = {c for c, _ in Mechanism.Category.choices}


def test_the_data_set_holds_what_was_asked(curated):
    assert set(REQUIRED_AGENTS) <= set(Agent.objects.values_list("slug", flat=True))
    assert set(REQUIRED_TARGETS) <= set(Target.objects.values_list("symbol", flat=True))
    acronyms = set(Trial.objects.values_list("acronym", flat=True))
    assert set(REQUIRED_TRIALS) <= acronyms
    roots = Mechanism.objects.filter(parent=None)
    assert set(roots.values_list("category", flat=True)) == CATEGORIES
    assert Evidence.objects.count() >= 60
    assert Evidence.objects.accepted().count() >= 60
    assert Citation.objects.filter(
        citekey="Veeraraghavan2025", pmid="39821040"
    ).exists()


def test_every_claim_cites_a_source_and_names_agents(curated):
    for evidence in Evidence.objects.prefetch_related("citations", "agents"):
        assert evidence.citations.exists(), evidence.uid
        assert evidence.agents.exists(), evidence.uid


def test_conflicting_fcgr_evidence_is_recorded_both_ways(curated):
    fcgr = Evidence.objects.filter(mechanism__slug="fcgr-polymorphism")
    directions = set(fcgr.values_list("direction", flat=True))
    assert directions == {"SUPPORTS", "DOES_NOT_SUPPORT"}


def test_no_agent_without_her2_approval_is_flagged_as_one(curated):
    for slug in ("zanidatamab", "alpelisib", "inavolisib", "palbociclib", "everolimus"):
        agent = Agent.objects.get(slug=slug)
        assert not agent.approvals.filter(her2_positive_breast=True).exists(), slug


def test_check_data_is_clean_on_the_shipped_fixtures(curated, capsys):
    call_command("check_data")
    # Gaps (approvals to cite, spellings to merge) are reported, not failed
    # on, until the data is complete; then this asks for --strict.
    assert "No problems found" in capsys.readouterr().out


def test_every_agent_marked_approved_has_an_approval(curated):
    approved = Agent.objects.filter(development_status=Agent.Status.APPROVED)
    assert approved.count() == 36
    assert not approved.filter(approvals__isnull=True).exists()


def test_check_data_reports_problems_and_fails():
    make_trial()  # no arms
    make_mechanism(category="METABOLISM")
    make_mechanism(category="METABOLISM")  # a second root: outside the tree
    make_author(family_name="Cortés", given_name="J")
    make_author(family_name="Cortes", given_name="J")
    trial = make_trial()
    TrialArm.objects.create(trial=trial, label="Open arm")
    problems = "\n".join(find_problems())
    assert "has no arms" in problems
    assert "outside the tree" in problems
    assert "Cortés J" in problems and "two spellings" in problems
    assert "gives no agent" in problems
    with pytest.raises(CommandError, match="problem"):
        call_command("check_data")


def test_check_data_finds_malformed_identifiers_saved_around_validation():
    trial = make_trial(arms=1)
    Trial.objects.filter(pk=trial.pk).update(start_date="2008-13")
    Author.objects.create(family_name="X", orcid="1234")
    problems = "\n".join(find_problems())
    assert "start_date '2008-13'" in problems
    assert "orcid '1234'" in problems


def test_a_loaded_claims_first_revision_reports_only_what_it_changes(
    curated, curator, editor
):
    # load_curated gives first history rows their links too (snapshot_links),
    # so the agents a revision leaves alone are not reported as changed.
    claim = Evidence.objects.accepted().first()
    content = content_of(claim) | {"statement": claim.statement + " Revised."}
    with operation():
        revision = Revision.propose(claim, content, curator)
    with operation():
        revision.accept(editor)
    entry = ChangeEntry.objects.filter(identifier=str(claim.uid)).last()
    assert (entry.action, entry.fields) == ("updated", ["statement"])
