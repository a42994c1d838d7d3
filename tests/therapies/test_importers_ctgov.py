"""import_ctgov on a real ClinicalTrials.gov v2 record (tests/data/README.md).

NCT05894239 (INAVO122) gives Phesgo (an alias of
pertuzumab-trastuzumab-hyaluronidase in the curated data) and inavolisib,
with a placebo and two interventions HER2db has no agent for. Variants of the
record change one thing each; every test says which.
"""

import copy
import json

import pytest
from django.core.management.base import CommandError

from tests.conftest import make_citation, make_trial
from tests.importers import DATA, run, variant
from therapies.models import Trial, TrialArm

pytestmark = pytest.mark.django_db

INAVO = DATA / "ctgov_NCT05894239.json"


def study() -> dict:
    return json.loads(INAVO.read_text())


def write(tmp_path, data, name="study.json"):
    return variant(tmp_path, name, json.dumps(data))


def arms_of(trial):
    return {
        arm.label: (arm.role, sorted(a.slug for a in arm.agents.all()))
        for arm in trial.arms.all()
    }


def test_maps_every_field_and_matches_agents_by_name_and_alias(curated):
    output = run("import_ctgov", INAVO)
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert trial.acronym == "INAVO122"
    assert trial.title == (
        "A Study to Evaluate the Efficacy and Safety of Inavolisib in Combination "
        "With Phesgo Versus Placebo in Combination With Phesgo in Participants With "
        "PIK3CA-Mutated HER2-Positive Locally Advanced or Metastatic Breast Cancer"
    )
    assert trial.official_title.startswith("A Phase III, Multicenter, Randomized")
    assert (trial.phase, trial.status) == ("PHASE3", "RECRUITING")
    assert (trial.start_date, trial.completion_date) == ("2023-09-08", "2032-12-28")
    # As the registry marks them: started, and the sponsor's expected end.
    assert (trial.start_date_type, trial.completion_date_type) == (
        "ACTUAL",
        "ESTIMATED",
    )
    assert trial.enrollment == 230
    assert trial.sponsor == "Hoffmann-La Roche"
    assert trial.conditions == "Metastatic Breast Cancer"
    phesgo = "pertuzumab-trastuzumab-hyaluronidase"
    assert arms_of(trial) == {
        "Induction Therapy: Phesgo plus Taxane-Based Chemotherapy": ("OTHER", [phesgo]),
        "Maintenance Therapy: Inavolisib plus Phesgo": (
            "EXPERIMENTAL",
            ["inavolisib", phesgo],
        ),
        "Maintenance Therapy: Placebo plus Phesgo": ("ACTIVE_COMPARATOR", [phesgo]),
    }
    assert "created   NCT05894239" in output
    # Unknown interventions are reported, never invented.
    assert (
        "interventions matching no agent (add an alias to link them): "
        "Taxane-based Chemotherapy, Optional Endocrine Therapy of Investigator's "
        "Choice, Placebo" in output
    )
    assert not TrialArm.objects.filter(agents__name__icontains="placebo").exists()


def test_second_run_changes_nothing_and_says_so(curated):
    run("import_ctgov", INAVO)
    history = Trial.history.count() + TrialArm.history.count()
    output = run("import_ctgov", INAVO)
    assert "Nothing to change: 0 created, 0 updated, 1 unchanged, 0 skipped." in output
    assert Trial.history.count() + TrialArm.history.count() == history


def test_dry_run_writes_nothing(curated):
    trials = Trial.objects.count()
    output = run("import_ctgov", INAVO, dry_run=True)
    assert "Would write: 1 created" in output and "Dry run" in output
    assert Trial.objects.count() == trials


def test_history_names_the_import_and_the_user(curated, django_user_model):
    user = django_user_model.objects.create(username="registrar")
    run("import_ctgov", INAVO, user="registrar")
    trial = Trial.objects.get(nct_id="NCT05894239")
    row = trial.history.get()
    assert (row.history_user, row.history_change_reason) == (
        user,
        "import_ctgov ctgov_NCT05894239.json",
    )
    arm_rows = TrialArm.history.filter(trial_id=trial.pk)
    assert {r.history_change_reason for r in arm_rows} == {
        "import_ctgov ctgov_NCT05894239.json"
    }
    assert {r.history_user for r in arm_rows} == {user}


def test_a_page_of_studies_is_read(curated, tmp_path):
    # The real record wrapped as a search page ("studies").
    page = write(tmp_path, {"studies": [study()], "nextPageToken": None})
    run("import_ctgov", page)
    assert Trial.objects.filter(nct_id="NCT05894239").exists()


def test_phases_combine_and_dates_keep_their_precision(curated, tmp_path):
    # The real record as a phase 1/2 study with month-precision dates.
    data = study()
    data["protocolSection"]["designModule"]["phases"] = ["PHASE1", "PHASE2"]
    status = data["protocolSection"]["statusModule"]
    status["startDateStruct"]["date"] = "2023-09"
    status["completionDateStruct"]["date"] = "2032-12"
    run("import_ctgov", write(tmp_path, data))
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert trial.phase == Trial.Phase.PHASE1_PHASE2
    assert (trial.start_date, trial.completion_date) == ("2023-09", "2032-12")


def test_a_date_the_record_does_not_mark_is_settled_by_status_or_left_out(
    curated, tmp_path
):
    # The real record with its dates' types removed: a recruiting trial has
    # started, but its completion may be an estimate, so it is not taken and
    # is named; once completed, the completion date is actual.
    data = study()
    status = data["protocolSection"]["statusModule"]
    del status["startDateStruct"]["type"], status["completionDateStruct"]["type"]
    status["completionDateStruct"]["date"] = "2033-01"
    output = run("import_ctgov", write(tmp_path, data, "unmarked.json"))
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert (trial.start_date, trial.start_date_type) == ("2023-09-08", "ACTUAL")
    assert (trial.completion_date, trial.completion_date_type) == ("", "")
    assert (
        "completionDateStruct 2033-01 not marked actual or estimated: not taken"
        in output
    )
    # A trial that holds a date keeps it rather than take an unmarked one.
    run("import_ctgov", INAVO)
    run("import_ctgov", write(tmp_path, data, "unmarked.json"))
    trial.refresh_from_db()
    assert (trial.completion_date, trial.completion_date_type) == (
        "2032-12-28",
        "ESTIMATED",
    )
    status["overallStatus"] = "COMPLETED"
    run("import_ctgov", write(tmp_path, data, "completed.json"))
    trial.refresh_from_db()
    assert (trial.completion_date, trial.completion_date_type) == (
        "2033-01",
        "ACTUAL",
    )


def test_an_estimate_on_an_ended_trial_or_an_unknown_type_names_the_record(
    curated, tmp_path
):
    data = study()
    data["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    with pytest.raises(CommandError, match="completion_date_type: A trial completed"):
        run("import_ctgov", write(tmp_path, data, "ended.json"))
    data = study()
    data["protocolSection"]["statusModule"]["startDateStruct"]["type"] = "ANTICIPATED"
    with pytest.raises(CommandError, match="startDateStruct.type 'ANTICIPATED'"):
        run("import_ctgov", write(tmp_path, data, "odd.json"))
    assert not Trial.objects.filter(nct_id="NCT05894239").exists()


def test_references_link_citations_that_exist(curated, tmp_path):
    # The real record has no references: this variant lists the CLEOPATRA
    # paper (in the curated data) and a PMID HER2db does not hold.
    data = study()
    data["protocolSection"]["referencesModule"] = {
        "references": [
            {"pmid": "22149875", "type": "BACKGROUND", "citation": "Baselga 2012"},
            {"pmid": "99999999", "type": "BACKGROUND", "citation": "not held"},
            {"type": "BACKGROUND", "citation": "no PMID"},
        ]
    }
    output = run("import_ctgov", write(tmp_path, data))
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert [c.citekey for c in trial.publications.all()] == ["Baselga2012"]
    assert "references not in HER2db, not linked" in output
    assert "PMID 99999999" in output


def test_reimport_with_a_changed_enrollment_updates_it(curated, tmp_path):
    run("import_ctgov", INAVO)
    # The real record with 240 participants instead of 230.
    data = study()
    data["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 240
    output = run("import_ctgov", write(tmp_path, data, "more.json"))
    assert "updated   NCT05894239 (enrollment)" in output
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert trial.enrollment == 240
    assert trial.history.first().history_change_reason == "import_ctgov more.json"


def test_updates_a_curated_trial_and_keeps_what_the_registry_omits(curated):
    trial = make_trial(
        nct_id="NCT05894239",
        acronym="INAVO122",
        title="INAVO122",
        sponsor="",
        primary_endpoint="PFS by investigator",
    )
    TrialArm.objects.create(trial=trial, label="Curated arm", physicians_choice=True)
    output = run("import_ctgov", INAVO)
    trial.refresh_from_db()
    assert trial.sponsor == "Hoffmann-La Roche"
    assert trial.primary_endpoint == "PFS by investigator"
    assert "Curated arm" in arms_of(trial)
    assert "arms not in the registry record, kept: Curated arm" in output
    assert "updated   NCT05894239" in output


def test_a_study_whose_arm_gives_no_known_agent_is_refused(tmp_path):
    # No agents in the database: INAVO122's experimental arm matches none.
    with pytest.raises(CommandError, match="would give no agent HER2db knows"):
        run("import_ctgov", INAVO)
    assert not Trial.objects.exists()


def test_a_study_without_arm_groups_gets_arms_from_its_interventions(curated, tmp_path):
    # INAVO122 without its arm groups: an arm for each intervention that is
    # an agent (Phesgo by alias), a placebo arm, the rest named.
    record = study()
    record["protocolSection"]["armsInterventionsModule"].pop("armGroups")
    output = run("import_ctgov", write(tmp_path, {"studies": [record]}))
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert arms_of(trial) == {
        "Drug: Inavolisib": ("OTHER", ["inavolisib"]),
        "Drug: Phesgo": ("OTHER", ["pertuzumab-trastuzumab-hyaluronidase"]),
        "Drug: Placebo": ("PLACEBO_COMPARATOR", []),
    }
    assert "the study lists no arm groups; arms made from its interventions" in output
    assert (
        "interventions matching no agent (add an alias to link them): "
        "Taxane-based Chemotherapy, Optional Endocrine Therapy of Investigator's "
        "Choice"
    ) in output


def field_subset_study(interventions, model=None) -> dict:
    """A study as a fields= query of the registry's API returns it: the
    identification and the interventions only, no arm groups."""
    protocol = {
        "identificationModule": {
            "nctId": "NCT09999999",
            "briefTitle": "A study cut to a few fields",
        },
        "armsInterventionsModule": {
            "interventions": [{"type": "DRUG", "name": n} for n in interventions]
        },
    }
    if model:
        protocol["designModule"] = {"designInfo": {"interventionModel": model}}
    return {"protocolSection": protocol}


def test_a_single_group_study_gets_one_arm_with_its_agents(curated, tmp_path):
    record = field_subset_study(["Docetaxel", "Trastuzumab", "Saline"], "SINGLE_GROUP")
    output = run("import_ctgov", write(tmp_path, record))
    trial = Trial.objects.get(nct_id="NCT09999999")
    assert arms_of(trial) == {
        "Docetaxel + Trastuzumab + Saline": (
            "EXPERIMENTAL",
            ["docetaxel", "trastuzumab"],
        )
    }
    assert "matching no agent (add an alias to link them): Saline" in output


def test_a_field_subset_study_keeps_the_agents_it_names(curated, tmp_path):
    run("import_ctgov", write(tmp_path, field_subset_study(["Docetaxel", "Foo"])))
    trial = Trial.objects.get(nct_id="NCT09999999")
    assert arms_of(trial) == {"Drug: Docetaxel": ("OTHER", ["docetaxel"])}


def test_without_arm_groups_a_curated_trials_arms_are_kept(curated, tmp_path):
    record = study()
    record["protocolSection"]["armsInterventionsModule"].pop("armGroups")
    trial = make_trial(nct_id="NCT05894239", arms=1)
    before = arms_of(trial)
    output = run("import_ctgov", write(tmp_path, {"studies": [record]}))
    assert arms_of(trial) == before
    assert "the trial's arms are kept as they are" in output


def test_a_study_without_arm_groups_or_known_agents_is_refused(curated, tmp_path):
    record = field_subset_study(["Foo", "Bar"])
    with pytest.raises(CommandError, match="none of its interventions is an agent"):
        run("import_ctgov", write(tmp_path, record))
    assert not Trial.objects.filter(nct_id="NCT09999999").exists()


def test_duplicate_nct_id_in_a_page_is_skipped(curated, tmp_path):
    # The real record twice in one page.
    page = write(tmp_path, {"studies": [study(), study()]})
    output = run("import_ctgov", page)
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in output
    assert "NCT05894239 appears earlier in this import" in output


def test_malformed_json_is_refused(tmp_path):
    # The real file cut in half.
    text = INAVO.read_text()
    cut = variant(tmp_path, "cut.json", text[: len(text) // 2])
    with pytest.raises(CommandError, match="cut.json: not JSON"):
        run("import_ctgov", cut)


def test_a_file_of_the_wrong_kind_is_refused():
    with pytest.raises(CommandError, match="not JSON"):
        run("import_ctgov", DATA / "pubmed_29963580.xml")


def test_json_that_is_not_a_study_is_refused(tmp_path):
    # A CSL-JSON list, as export_citations writes.
    csl = write(tmp_path, [{"id": "X", "type": "article-journal", "title": "T"}])
    with pytest.raises(CommandError, match="not ClinicalTrials.gov API v2 study JSON"):
        run("import_ctgov", csl)


def test_missing_nct_id_names_the_record(curated, tmp_path):
    # The second study of a page without its nctId.
    broken = study()
    del broken["protocolSection"]["identificationModule"]["nctId"]
    page = write(tmp_path, {"studies": [study(), broken]}, "page.json")
    with pytest.raises(CommandError, match="page.json: study 2: no nctId"):
        run("import_ctgov", page)


def test_unknown_status_aborts_the_whole_page(curated, tmp_path):
    # A page whose second study (a copy with another NCT id) has a status
    # outside HER2db's vocabulary: nothing from the page is written.
    second = study()
    second["protocolSection"]["identificationModule"]["nctId"] = "NCT05894240"
    second["protocolSection"]["statusModule"]["overallStatus"] = "AVAILABLE"
    page = write(tmp_path, {"studies": [study(), second]})
    trials = Trial.objects.count()
    with pytest.raises(CommandError) as raised:
        run("import_ctgov", page)
    assert "study 2 (NCT05894240): unknown overallStatus 'AVAILABLE'" in str(
        raised.value
    )
    assert "Nothing was written" in str(raised.value)
    assert Trial.objects.count() == trials


def test_completion_before_start_is_refused(curated, tmp_path):
    # The real record with its dates swapped.
    data = study()
    status = data["protocolSection"]["statusModule"]
    status["startDateStruct"]["date"], status["completionDateStruct"]["date"] = (
        "2032-12-28",
        "2023-09-08",
    )
    with pytest.raises(CommandError, match="completion date precedes the start"):
        run("import_ctgov", write(tmp_path, data))


def test_an_alias_added_later_links_the_intervention_on_reimport(curated):
    from therapies.models import Agent, AgentAlias

    run("import_ctgov", INAVO)
    paclitaxel = Agent.objects.get(slug="paclitaxel")
    AgentAlias.objects.create(agent=paclitaxel, alias="Taxane-based Chemotherapy")
    output = run("import_ctgov", INAVO)
    arm = TrialArm.objects.get(label__startswith="Induction Therapy")
    assert paclitaxel in arm.agents.all()
    assert "gives paclitaxel" in output


def test_pubmed_import_of_a_trial_paper_links_it(curated):
    # Both importers link a citation and a trial, whichever comes first.
    trial = make_trial(nct_id="NCT01761786")
    run("import_pubmed", DATA / "pubmed_31479209.xml")
    assert [c.pmid for c in trial.publications.all()] == ["31479209"]
    data = copy.deepcopy(trial.publications.first().citekey)
    assert data == "Claassens2019"


def test_existing_citation_is_linked_once(curated, tmp_path):
    make_citation(citekey="Linked2020", pmid="424242")
    data = study()
    data["protocolSection"]["referencesModule"] = {
        "references": [{"pmid": "424242"}, {"pmid": "424242"}]
    }
    path = write(tmp_path, data)
    run("import_ctgov", path)
    output = run("import_ctgov", path)
    trial = Trial.objects.get(nct_id="NCT05894239")
    assert trial.publications.count() == 1
    assert "1 unchanged" in output
