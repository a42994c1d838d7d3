"""export_release and import_release."""

import csv
import datetime
import hashlib
import json
from decimal import Decimal

import jsonschema
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from her2db.registry import registry
from references.models import Citation, DistinctAuthors
from tests import factories
from tests.importers import DATA, run
from therapies.models import Agent, Evidence
from therapies.releases import released_tables

pytestmark = pytest.mark.django_db

FILES = {
    "README.md",
    "SHA256SUMS",
    "her2db.json",
    "citations.json",
    "citations.bib",
    "citations.ris",
    *(f"tsv/{label}.tsv" for label in released_tables()),
}


def wipe():
    """Empty every released table, children first."""
    for label in reversed(released_tables()):
        model = apps.get_model(label)
        if label == "therapies.mechanism":
            while model.objects.exists():  # leaves first: parents are protected
                model.objects.filter(children__isnull=True).delete()
        else:
            model.objects.all().delete()


def build():
    adc = factories.make_agent(
        name="trastuzumab deruxtecan",
        slug="trastuzumab-deruxtecan",
        modality=Agent.Modality.ANTIBODY_DRUG_CONJUGATE,
        drug_to_antibody_ratio=Decimal("8.0"),
        targets=1,
        brand="Enhertu",
    )
    factories.make_approval(
        agent=adc,
        date=datetime.date(2019, 12, 1),
        date_precision="MONTH",
        indication="MBC",
    )
    paper = factories.make_citation(
        authors=2, pmid="22149875", doi="10.1056/nejmoa1113216"
    )
    first, second = paper.ordered_authors()
    DistinctAuthors.objects.create(first=first, second=second, note="two labs")
    trial = factories.make_trial(arms=2, publications=[paper])
    # Trial results travel with their trial, arms named by label.
    factories.make_outcome(trial, citation=paper)
    accepted = factories.make_evidence(
        agents=[adc],
        mechanism=factories.make_mechanism(parent=factories.make_mechanism(genes=1)),
        citations=[paper],
        trials=[trial],
    )
    draft = factories.make_evidence(
        status=Evidence.Status.DRAFT, statement="Not yet public."
    )
    return accepted, draft


def files_of(directory):
    return {
        str(p.relative_to(directory)): p.read_text()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def undated(files, *dates):
    out = {}
    for name, text in files.items():
        if name == "SHA256SUMS":
            continue  # differs through README.md and her2db.json, checked below
        for date in dates:
            text = text.replace(date, "DATE").replace(date.replace("-", "."), "DATE")
        out[name] = text
    return out


def test_a_release_holds_the_tables_the_registry_releases():
    labels = {
        model._meta.label_lower
        for app in ("references", "therapies")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.model_name.startswith("historical")
    }
    left_out = {r.label for r in registry if not (r.released and r.curated)}
    assert left_out == {"therapies.changeentry", "therapies.revision"}
    assert set(released_tables()) == labels - left_out


def test_release_holds_public_data_only_with_checksums(tmp_path):
    accepted, draft = build()
    out = tmp_path / "release"
    output = run("export_release", out, date="2026-01-02")
    assert "Wrote HER2db release 2026.01.02" in output
    assert set(files_of(out)) == FILES
    document = json.loads((out / "her2db.json").read_text())
    assert (document["release"], document["date"]) == ("2026.01.02", "2026-01-02")
    assert set(document["schema"]) == {"references", "therapies"}
    uids = [row["uid"] for row in document["tables"]["therapies.evidence"]]
    assert uids == [str(accepted.uid)]
    assert str(draft.uid) not in (out / "her2db.json").read_text()
    assert document["counts"]["therapies.evidenceagent"] == 1
    evidence = document["tables"]["therapies.evidence"][0]
    assert "created_by" not in evidence and "created_at" not in evidence
    assert evidence["status"] == "ACCEPTED"
    agent = next(
        row
        for row in document["tables"]["therapies.agent"]
        if row["slug"] == "trastuzumab-deruxtecan"
    )
    assert agent["drug_to_antibody_ratio"] == "8.0"
    # Checksums in sha256sum's own format.
    for line in (out / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    readme = (out / "README.md").read_text()
    assert "| therapies.evidence | 1 |" in readme
    assert document["schema"]["therapies"][0] in readme
    with (out / "tsv" / "therapies.agentalias.tsv").open() as stream:
        rows = list(csv.reader(stream, delimiter="\t"))
    assert rows == [
        ["agent", "alias", "kind"],
        ["trastuzumab-deruxtecan", "Enhertu", "BRAND"],
    ]
    # An approval's date goes with how much of it is known.
    [approval] = document["tables"]["therapies.approval"]
    assert (approval["date"], approval["date_precision"]) == ("2019-12-01", "MONTH")
    with (out / "tsv" / "therapies.approval.tsv").open() as stream:
        [row] = csv.DictReader(stream, delimiter="\t")
    assert (row["date"], row["date_precision"]) == ("2019-12-01", "MONTH")
    csl = json.loads((out / "citations.json").read_text())
    schema = json.loads((DATA / "csl-data.json").read_text())
    jsonschema.validate(csl, schema)
    assert [item["id"] for item in csl] == sorted(
        Citation.objects.values_list("citekey", flat=True)
    )


def test_export_import_export_gives_the_same_files_but_the_date(tmp_path):
    build()
    first, second = tmp_path / "first", tmp_path / "second"
    run("export_release", first, date="2026-01-02")
    wipe()
    output = run("import_release", first)
    assert "Loaded HER2db release 2026.01.02" in output
    assert DistinctAuthors.objects.get().note == "two labs"
    run("export_release", second, date="2026-03-04")
    a, b = files_of(first), files_of(second)
    assert a != b
    assert undated(a, "2026-01-02") == undated(b, "2026-03-04")


def test_the_shipped_curated_data_survives_a_release_round_trip(tmp_path):
    call_command("load_curated", verbosity=0)
    first, second = tmp_path / "first", tmp_path / "second"
    run("export_release", first, date="2026-01-02")
    counts = json.loads((first / "her2db.json").read_text())["counts"]
    assert counts["references.citation"] == Citation.objects.count()
    assert counts["therapies.evidence"] == Evidence.objects.accepted().count()
    wipe()
    run("import_release", first)
    run("export_release", second, date="2026-01-02")
    assert files_of(first) == files_of(second)


def test_imported_rows_get_history_naming_the_release(tmp_path, django_user_model):
    build()
    run("export_release", tmp_path / "r", date="2026-01-02")
    wipe()
    user = django_user_model.objects.create(username="loader")
    run("import_release", tmp_path / "r", user="loader")
    row = Citation.objects.get(pmid="22149875").history.get()
    assert (row.history_user, row.history_change_reason) == (user, "import_release r")


def test_import_refuses_a_database_that_is_not_empty(tmp_path):
    build()
    run("export_release", tmp_path / "r")
    with pytest.raises(CommandError, match="not empty"):
        run("import_release", tmp_path / "r")


def test_import_refuses_a_changed_file_before_loading_anything(tmp_path):
    build()
    run("export_release", tmp_path / "r")
    wipe()
    tsv = tmp_path / "r" / "tsv" / "therapies.agent.tsv"
    tsv.write_text(tsv.read_text() + "x")
    with pytest.raises(CommandError, match="therapies.agent.tsv does not match"):
        run("import_release", tmp_path / "r")
    assert not Citation.objects.exists()


def test_import_refuses_an_approved_agent_without_an_approval(tmp_path):
    build()
    factories.make_agent(  # saved around the rules, as an old database may hold
        slug="docetaxel", name="docetaxel", development_status=Agent.Status.APPROVED
    )
    run("export_release", tmp_path / "r", date="2026-01-02")
    wipe()
    message = "agent docetaxel: marked approved, with no approval on record"
    with pytest.raises(CommandError, match=f"{message}; nothing was loaded"):
        run("import_release", tmp_path / "r")
    assert not Agent.objects.exists()


def test_import_refuses_another_schema_version(tmp_path):
    build()
    out = tmp_path / "r"
    run("export_release", out)
    wipe()
    document = json.loads((out / "her2db.json").read_text())
    document["schema"]["therapies"] = ["0001_initial"]
    (out / "her2db.json").write_text(json.dumps(document))
    digest = hashlib.sha256((out / "her2db.json").read_bytes()).hexdigest()
    sums = [
        f"{digest}  her2db.json" if line.endswith("  her2db.json") else line
        for line in (out / "SHA256SUMS").read_text().splitlines()
    ]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    with pytest.raises(CommandError, match="made with schema"):
        run("import_release", out)


def test_export_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        run("export_release", tmp_path)
