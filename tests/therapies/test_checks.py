"""check_data: its set queries find what the row-by-row rules found, its
gaps, and the coverage report that fixtures/README.md quotes."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from references.models import Author, Citation, DistinctAuthors
from tests import factories
from tests.therapies import rowwise_checks
from therapies import checks
from therapies.coverage import README_END, README_START, coverage_report
from therapies.models import (
    Agent,
    Evidence,
    Mechanism,
    OutcomeArmResult,
    Target,
    Trial,
    TrialArm,
)

pytestmark = pytest.mark.django_db


def one_violation_of_each_rule():
    """A small data set breaking each rule check_data knows once."""
    factories.make_outcome()  # a clean outcome beside the broken one
    factories.make_evidence().evidence_citations.all().delete()
    factories.make_evidence().agents.clear()
    factories.make_trial()  # no arms
    TrialArm.objects.create(trial=factories.make_trial(arms=1), label="Bare")
    # Malformed values saved around validation, one of each kind of rule:
    # a pattern, a choice, a URL (checked in Python), a slug, a length.
    Trial.objects.filter(pk=factories.make_trial(arms=1).pk).update(
        start_date="2008-13"
    )
    Author.objects.create(family_name="Orcid", given_name="A.", orcid="1234")
    Agent.objects.filter(pk=factories.make_agent().pk).update(modality="BOGUS")
    Agent.objects.filter(pk=factories.make_agent().pk).update(slug="Not a slug")
    Citation.objects.filter(pk=factories.make_citation().pk).update(url="not a url")
    Target.objects.filter(pk=factories.make_target().pk).update(symbol="erbb2")
    Evidence.objects.filter(pk=factories.make_evidence().pk).update(
        model_system="BOGUS"
    )
    # The tree: a child of another category, a cycle, two roots of a category.
    root = factories.make_mechanism(category="METABOLISM")
    factories.make_mechanism(category="METABOLISM")
    child = factories.make_mechanism(parent=factories.make_mechanism())
    Mechanism.objects.filter(pk=child.pk).update(category="IMMUNE")
    first, second = factories.make_mechanism(), factories.make_mechanism()
    Mechanism.objects.filter(pk=first.pk).update(parent=second, category="ADC")
    Mechanism.objects.filter(pk=second.pk).update(parent=first, category="ADC")
    assert root  # (its category has a second root)
    # An approval without its agency.
    from therapies.models import Approval

    Approval.objects.filter(pk=factories.make_approval().pk).update(agency="")
    # An outcome whose arm's value names another trial's arm.
    broken = factories.make_outcome()
    stranger = factories.make_trial(arms=1).arms.get()
    OutcomeArmResult.objects.filter(pk=broken.arm_results.first().pk).update(
        arm=stranger
    )
    factories.make_author(family_name="Cortés", given_name="J.")
    factories.make_author(family_name="Cortes", given_name="J.")
    factories.make_citation(title="The same paper")
    factories.make_citation(title="The same paper.")
    # An agent marked approved with no approval.
    factories.make_agent(development_status=Agent.Status.APPROVED)
    # Registry dates: one not marked actual or estimated, a type without its
    # date, an ended trial with an estimated completion (saved around clean).
    for values in (
        {"start_date": "2011-05"},
        {"completion_date_type": "ACTUAL"},
        {
            "status": "COMPLETED",
            "completion_date": "2019-04",
            "completion_date_type": "ESTIMATED",
        },
    ):
        Trial.objects.filter(pk=factories.make_trial(arms=1).pk).update(**values)
    # Gaps.
    factories.make_approval(her2_positive_breast=True)
    factories.make_trial(
        arms=1,
        status="ACTIVE_NOT_RECRUITING",
        completion_date="2020-01",
        completion_date_type="ESTIMATED",
    )
    factories.make_author(family_name="Swain", given_name="SM")
    factories.make_author(family_name="Borg", given_name="Å")
    factories.make_author(family_name="Geyer", given_name="C. E. Jr")
    factories.make_author(family_name="Benyunes", given_name="M.")
    factories.make_author(family_name="Benyunes", given_name="M. C.")


def test_the_set_queries_find_what_the_row_by_row_rules_found():
    one_violation_of_each_rule()
    found = checks.find_problems()
    assert sorted(set(found)) == sorted(set(rowwise_checks.find_problems()))
    assert sorted(checks.find_gaps()) == sorted(rowwise_checks.find_gaps())
    # Each rule found its violation.
    text = "\n".join(found)
    for expected in [
        "cites nothing",
        "names no agent",
        "has no arms",
        "arm 'Bare': gives no agent",
        "marked approved, with no approval on record",
        "start_date '2008-13'",
        "orcid '1234'",
        "modality 'BOGUS'",
        "slug 'Not a slug'",
        "url 'not a url'",
        "symbol 'erbb2'",
        "model_system 'BOGUS'",
        "differs from its parent",
        "its ancestry is a cycle",
        "several roots in category METABOLISM",
        "lacks agency, date or indication",
        "not of its trial",
        "Cortes J. / Cortés J.",
        "the same title twice",
        "start_date 2011-05 is not marked actual or estimated",
        "completion_date_type ACTUAL with no completion_date",
        "completed, with an estimated completion date",
    ]:
        assert expected in text, expected
    gaps = "\n".join(checks.find_gaps())
    for expected in [
        "cites neither its label nor its trial",
        "estimated completion 2020-01 has passed; read the registry again",
        "author Swain SM: initials without full stops; write 'S. M.'",
        "author Borg Å: initials without full stops; write 'Å.'",
        "author Geyer C. E. Jr: a suffix in the given name; write given name "
        "'C. E.' and suffix 'Jr'",
        "authors Benyunes M. / Benyunes M. C.: one person, two spellings?",
    ]:
        assert expected in gaps, expected


@pytest.mark.parametrize(
    ("estimate", "passed"),
    [
        ("2026-12-01", True),
        ("2026-12-02", False),
        ("2026-11", True),
        ("2026-12", False),  # the month has not ended
        ("2025", True),
        ("2026", False),
        ("2027-01-15", False),
    ],
)
def test_an_estimate_passes_when_its_day_month_or_year_has_ended(estimate, passed):
    factories.make_trial(
        arms=1,
        status="RECRUITING",
        completion_date=estimate,
        completion_date_type="ESTIMATED",
    )
    today = date(2026, 12, 2)
    found = list(checks.estimates_passed(today))
    assert bool(found) is passed
    assert found == list(rowwise_checks.estimates_passed(today))


def test_a_pair_marked_as_different_people_is_asked_about_no_more():
    wang = factories.make_author(family_name="Wang", given_name="Y.")
    wang_c = factories.make_author(family_name="Wang", given_name="Y. C.")
    factories.make_author(family_name="Wang", given_name="Y. N.")
    DistinctAuthors.objects.create(first=wang_c, second=wang)
    # Marked either way round; Wang Y. and Wang Y. N. are still asked about.
    assert checks.find_gaps() == [
        "authors Wang Y. / Wang Y. N.: one person, two spellings?"
    ]
    assert checks.find_gaps() == rowwise_checks.find_gaps()


def test_marking_one_shipped_pair_silences_that_pair_alone(curated, capsys):
    def spellings() -> list[str]:
        call_command("check_data")
        out = capsys.readouterr().out
        return [line for line in out.splitlines() if "two spellings" in line]

    before = spellings()
    pair = "gap: authors Chia S. / Chia S. K. L.: one person, two spellings?"
    assert pair in before and len(before) > 1
    chia, chia_skl = (
        Author.objects.get(family_name="Chia", given_name=given)
        for given in ("S.", "S. K. L.")
    )
    DistinctAuthors.objects.create(first=chia, second=chia_skl)
    assert spellings() == [line for line in before if line != pair]


def test_check_data_fails_on_gaps_only_when_strict(capsys):
    factories.make_author(family_name="Swain", given_name="SM")
    call_command("check_data")
    assert "gap: author Swain SM" in capsys.readouterr().out
    with pytest.raises(CommandError, match="0 problem"):
        call_command("check_data", strict=True)


def test_check_data_fails_on_an_approved_agent_without_an_approval(capsys):
    agent = factories.make_agent(slug="docetaxel", development_status="APPROVED")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_data")
    assert "agent docetaxel: marked approved, with no approval on record" in (
        capsys.readouterr().out
    )
    factories.make_approval(agent, date=date(1996, 5, 1), date_precision="MONTH")
    call_command("check_data")
    assert "No problems found" in capsys.readouterr().out


def test_a_clean_outcome_and_dotted_initials_are_no_gap():
    factories.make_outcome()
    factories.make_author(family_name="Swain", given_name="S. M.")
    assert checks.find_problems() == []
    assert checks.find_gaps() == []


def readme_block() -> str:
    text = (Path(settings.BASE_DIR) / "fixtures" / "README.md").read_text()
    block = text.split(README_START, 1)[1].split(README_END, 1)[0]
    return block.strip().removeprefix("```text").removesuffix("```").strip()


def test_the_readme_quotes_the_coverage_report_of_the_shipped_data(curated):
    assert readme_block() == coverage_report(), (
        "fixtures/README.md's list of missing values differs from "
        "`python manage.py check_data --coverage`: paste its output between "
        "the markers."
    )


def test_coverage_names_the_records_lacking_a_value():
    trial = factories.make_trial(arms=1, sponsor="")
    factories.make_citation(citekey="Nopmid2020", pmid="")
    report = coverage_report()
    assert f"- sponsor: 1 without: {trial.nct_id}" in report
    assert "Nopmid2020" in report.split("- PMID:")[1].split("\n-")[0]
    assert f"- outcomes: 1 without: {trial.nct_id}" in report
