from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from references.models import Citation
from tests import factories
from therapies import models
from therapies.models.agents import MONTH_STARTS_ON_DAY_1, YEAR_STARTS_ON_JANUARY_1

pytestmark = pytest.mark.django_db


def agent(**kw) -> models.Agent:
    kw.setdefault("name", "testumab")
    kw.setdefault("slug", "testumab")
    kw.setdefault("modality", models.Agent.Modality.MONOCLONAL_ANTIBODY)
    return models.Agent(**kw)


def target(**kw) -> models.Target:
    kw.setdefault("symbol", "ERBB2")
    kw.setdefault("name", "erb-b2 receptor tyrosine kinase 2")
    return models.Target(**kw)


def trial(**kw) -> models.Trial:
    kw.setdefault("nct_id", "NCT00567190")
    kw.setdefault("title", "A trial")
    for field in ("start_date", "completion_date"):
        if kw.get(field):
            kw.setdefault(f"{field}_type", models.Trial.DateType.ACTUAL)
    return models.Trial(**kw)


@pytest.mark.parametrize(
    "build,field,good,bad,message",
    [
        (agent, "chembl_id", "CHEMBL1201585", "CHEMBL", "A ChEMBL id looks like"),
        (agent, "chembl_id", "CHEMBL554", "chembl554", "A ChEMBL id looks like"),
        (agent, "drugbank_id", "DB00072", "DB0072", "A DrugBank id is"),
        (agent, "ncit_id", "C1647", "1647", "An NCIt code looks like"),
        (target, "uniprot_id", "P04626", "P0462", "A UniProt accession looks like"),
        (target, "uniprot_id", "A0A024R161", "p04626", "A UniProt accession looks"),
        (target, "hgnc_id", "HGNC:3430", "3430", "An HGNC id looks like"),
        (target, "symbol", "ERBB2", "erbb2", "An HGNC symbol looks like"),
        (trial, "nct_id", "NCT00567190", "NCT0056719", 'An NCT id is "NCT" and 8'),
        (trial, "nct_id", "NCT01358877", "nct01358877", 'An NCT id is "NCT" and 8'),
        (trial, "start_date", "2008-02", "2008-13", "Use YYYY, YYYY-MM or YYYY-MM-DD"),
        (trial, "start_date", "2008-02-12", "12/02/2008", "Use YYYY"),
    ],
)
def test_identifier_formats_are_validated(build, field, good, bad, message):
    build(**{field: good}).full_clean()
    assert message in factories.errors_of(build(**{field: bad}))[field][0]


@pytest.mark.parametrize(
    "model,field,value,message",
    [
        (agent, "chembl_id", "CHEMBL1201585", "Another agent has this ChEMBL id."),
        (agent, "drugbank_id", "DB00072", "Another agent has this DrugBank id."),
        (target, "hgnc_id", "HGNC:3430", "Another target has this HGNC id."),
        (target, "uniprot_id", "P04626", "Another target has this UniProt accession."),
    ],
)
def test_external_ids_are_unique(model, field, value, message):
    model(**{field: value}).save()
    if model is agent:
        other = agent(name="other", slug="other", **{field: value})
    else:
        other = target(symbol="OTHER", **{field: value})
    assert message in str(factories.errors_of(other))
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_trial_nct_id_is_unique_and_checked_at_the_database():
    trial().save()
    assert "nct_id" in factories.errors_of(trial())
    with pytest.raises(IntegrityError), transaction.atomic():
        trial().save()
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Trial.objects.create(nct_id="XYZ00000001", title="bad")


def test_trial_completion_cannot_precede_start():
    assert "completion_date" in factories.errors_of(
        trial(start_date="2010-05", completion_date="2009-12-31")
    )
    trial(start_date="2010-05-17", completion_date="2010-05").full_clean()


@pytest.mark.parametrize(
    "values,field,message",
    [
        ({"start_date": "2010-05", "start_date_type": ""}, "start_date_type", "Say"),
        (
            {"completion_date": "2031", "completion_date_type": ""},
            "completion_date_type",
            "ACTUAL or ESTIMATED",
        ),
        ({"start_date_type": "ACTUAL"}, "start_date_type", "Give the date"),
        (
            {
                "status": "COMPLETED",
                "completion_date": "2019-04",
                "completion_date_type": "ESTIMATED",
            },
            "completion_date_type",
            "A trial completed has an actual completion date",
        ),
        (
            {
                "status": "TERMINATED",
                "completion_date": "2019-04",
                "completion_date_type": "ESTIMATED",
            },
            "completion_date_type",
            "A trial terminated has an actual",
        ),
    ],
)
def test_a_registry_date_says_whether_it_is_actual_or_estimated(values, field, message):
    assert message in factories.errors_of(trial(**values))[field][0]


def test_a_running_trial_may_give_an_estimated_completion():
    trial(
        status="RECRUITING",
        start_date="2023-09-08",
        completion_date="2032-12-28",
        completion_date_type="ESTIMATED",
    ).full_clean()


def test_conjugate_fields_belong_to_adcs_only():
    adc = agent(
        modality=models.Agent.Modality.ANTIBODY_DRUG_CONJUGATE,
        payload="DM1",
        linker="non-cleavable thioether",
        linker_cleavable=False,
        drug_to_antibody_ratio=Decimal("3.5"),
    )
    adc.full_clean()
    antibody = agent(payload="DM1")
    assert "apply only to antibody-drug conjugates" in str(
        factories.errors_of(antibody)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        antibody.save()


def test_drug_to_antibody_ratio_range():
    adc = agent(
        modality=models.Agent.Modality.ANTIBODY_DRUG_CONJUGATE,
        drug_to_antibody_ratio=Decimal("25"),
    )
    assert "drug_to_antibody_ratio" in factories.errors_of(adc)
    with pytest.raises(IntegrityError), transaction.atomic():
        adc.save()


def test_alias_names_one_agent_whatever_its_case():
    first = factories.make_agent()
    models.AgentAlias.objects.create(agent=first, alias="Herceptin")
    clash = models.AgentAlias(agent=factories.make_agent(), alias="HERCEPTIN")
    assert "This alias already names an agent." in str(factories.errors_of(clash))
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


def test_agent_target_pair_is_unique():
    a, t = factories.make_agent(), factories.make_target()
    models.AgentTarget.objects.create(agent=a, target=t, action="INHIBITOR")
    clash = models.AgentTarget(agent=a, target=t, action="BINDER")
    assert "This agent already has this target." in str(factories.errors_of(clash))
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


def test_approval_needs_agency_date_indication_and_is_unique():
    a = factories.make_agent()
    good = models.Approval(
        agent=a, agency="FDA", date=date(1998, 9, 25), indication="MBC"
    )
    good.full_clean()
    good.save()
    assert "already recorded" in str(
        factories.errors_of(
            models.Approval(
                agent=a, agency="FDA", date=date(1998, 9, 25), indication="MBC"
            )
        )
    )
    missing = factories.errors_of(models.Approval(agent=a))
    assert {"agency", "date", "indication"} <= set(missing)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Approval.objects.create(
            agent=a, agency="FDA", date=date(2000, 1, 1), indication=""
        )


@pytest.mark.parametrize(
    "precision, wrong, right, text",
    [
        ("MONTH", date(1996, 5, 14), date(1996, 5, 1), "1996-05"),
        ("YEAR", date(1959, 3, 1), date(1959, 1, 1), "1959"),
    ],
)
def test_a_date_known_to_the_month_or_year_is_its_first_day(
    precision, wrong, right, text
):
    a = factories.make_agent(name="docetaxel", slug="docetaxel")
    approval = models.Approval(
        agent=a, agency="FDA", date=wrong, date_precision=precision, indication="MBC"
    )
    message = {"MONTH": MONTH_STARTS_ON_DAY_1, "YEAR": YEAR_STARTS_ON_JANUARY_1}[
        precision
    ]
    assert factories.errors_of(approval) == {"date": [message]}
    with pytest.raises(IntegrityError), transaction.atomic():
        approval.save()  # the database's own constraint, past full_clean
    approval.date = right
    approval.full_clean()
    approval.save()
    assert str(approval) == f"docetaxel · FDA {text}"


def test_an_approval_dated_to_the_day_prints_the_day():
    approval = factories.make_approval(
        factories.make_agent(name="pyrotinib", slug="pyrotinib"),
        agency="NMPA",
        date=date(2018, 8, 15),
    )
    assert approval.date_precision == models.Approval.Precision.DAY
    assert str(approval) == "pyrotinib · NMPA 2018-08-15"


def test_mechanism_tree_rules():
    root = factories.make_mechanism(category="DOWNSTREAM")
    child = factories.make_mechanism(parent=root)
    wrong = models.Mechanism(slug="x", name="X", parent=root, category="METABOLISM")
    assert "category" in factories.errors_of(wrong)
    root.parent = child
    assert "cycle" in str(factories.errors_of(root))
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Mechanism.objects.filter(pk=root.pk).update(parent=root.pk)


def test_mechanism_subtree_ids_walk_every_level():
    root = factories.make_mechanism()
    child = factories.make_mechanism(parent=root)
    grandchild = factories.make_mechanism(parent=child)
    factories.make_mechanism()  # unrelated
    assert models.Mechanism.objects.subtree_ids([root]) == {
        root.pk,
        child.pk,
        grandchild.pk,
    }


def test_evidence_level_and_statement_are_constrained():
    evidence = factories.make_evidence()
    evidence.level = "F"
    assert "level" in factories.errors_of(evidence)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Evidence.objects.filter(pk=evidence.pk).update(level="F")
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Evidence.objects.filter(pk=evidence.pk).update(statement="")


def test_arm_labels_are_unique_within_a_trial():
    t = factories.make_trial(arms=1)
    clash = models.TrialArm(trial=t, label="Arm 1")
    assert "already has an arm so labelled" in str(factories.errors_of(clash))
    models.TrialArm(trial=factories.make_trial(), label="Arm 1").full_clean()


@pytest.mark.parametrize("what", ["citation", "agent", "mechanism", "trial"])
def test_deleting_what_evidence_uses_is_refused(what):
    citation, used_agent, mechanism = (
        factories.make_citation(),
        factories.make_agent(),
        factories.make_mechanism(),
    )
    t = factories.make_trial()
    evidence = factories.make_evidence(
        agents=[used_agent], mechanism=mechanism, citations=[citation]
    )
    evidence.trials.add(t)
    victim = {
        "citation": citation,
        "agent": used_agent,
        "mechanism": mechanism,
        "trial": t,
    }[what]
    with pytest.raises(ProtectedError):
        victim.delete()
    with pytest.raises(ProtectedError):
        type(victim).objects.filter(pk=victim.pk).delete()
    evidence.refresh_from_db()
    assert list(evidence.agents.all()) == [used_agent]
    assert evidence.mechanism == mechanism
    assert list(evidence.citations.all()) == [citation]
    assert list(evidence.trials.all()) == [t]
    assert Citation.objects.filter(pk=citation.pk).exists()


def test_deleting_an_agent_given_in_a_trial_arm_is_refused():
    t = factories.make_trial(arms=1)
    used = t.arms.get().agents.get()
    with pytest.raises(ProtectedError):
        used.delete()


def test_a_parent_mechanism_cannot_be_deleted_under_its_children():
    root = factories.make_mechanism()
    factories.make_mechanism(parent=root)
    with pytest.raises(ProtectedError):
        root.delete()


def test_accepted_and_visible_to():
    accepted = factories.make_evidence()
    draft = factories.make_evidence(status=models.Evidence.Status.DRAFT)
    assert list(models.Evidence.objects.accepted()) == [accepted]
    from django.contrib.auth.models import AnonymousUser

    assert draft not in models.Evidence.objects.visible_to(AnonymousUser())


def test_trials_for_agent():
    t = factories.make_trial(arms=2)
    a = t.arms.first().agents.get()
    factories.make_trial(arms=1)
    assert list(models.Trial.objects.for_agent(a)) == [t]


def test_a_search_count_reads_a_claims_status_from_an_index_on_postgresql():
    """PostgreSQL holds an index of (id) covering status and mechanism, so a
    count of matching claims never reads their wide rows; SQLite has none
    (it would only repeat the primary key)."""
    from django.db import connection

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "therapies_evidence")
    index = found.get("therapies_evidence_id_status")
    if connection.vendor != "postgresql":
        assert index is None
        return
    assert index is not None and index["columns"][0] == "id"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["therapies_evidence_id_status"],
        )
        (definition,) = cursor.fetchone()
    assert "INCLUDE (status, mechanism_id)" in definition


def test_the_migration_marks_only_the_dates_a_status_settles():
    """0016 gives stored dates a type where the status says it has happened,
    and leaves the rest for check_data to name. (Its data step, run on rows
    as 0015 left them: migrating the schema back and forth in a test would
    rebuild the table on SQLite without its triggers.)"""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("therapies.migrations.0016_trial_date_types")
    rows = {
        "NCT00000001": ("COMPLETED", "2008-02", "2012-05"),
        "NCT00000002": ("RECRUITING", "2023-09-08", "2032-12-28"),
        "NCT00000003": ("NOT_YET_RECRUITING", "2027-01", ""),
        "NCT00000004": ("", "2019-10-21", ""),
    }
    for nct_id, (status, start, completion) in rows.items():
        models.Trial.objects.create(
            nct_id=nct_id,
            title=nct_id,
            status=status,
            start_date=start,
            completion_date=completion,
        )
    migration.settled_types(apps, None)
    types = {
        t.nct_id: (t.start_date_type, t.completion_date_type)
        for t in models.Trial.objects.filter(nct_id__in=rows)
    }
    assert types == {
        "NCT00000001": ("ACTUAL", "ACTUAL"),
        "NCT00000002": ("ACTUAL", ""),  # its completion may be an estimate
        "NCT00000003": ("", ""),  # not started: may be an estimate
        "NCT00000004": ("", ""),  # no status says
    }
