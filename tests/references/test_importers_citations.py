"""import_citations and export_citations: BibTeX, RIS and CSL-JSON.

The files are written by export_citations from the real PubMed records in
tests/data, so every field goes out and comes back.
"""

import pytest
from django.core.management.base import CommandError

from references.models import Author, Citation
from tests.conftest import make_citation
from tests.importers import DATA, run, variant

pytestmark = pytest.mark.django_db

FIELDS = ["citekey", *Citation.BIBLIOGRAPHIC_FIELDS, "abstract"]
REAL = [
    DATA / "pubmed_29963580.xml",
    DATA / "pubmed_31479209.xml",
    DATA / "pubmed_12091962_9997.xml",
]


def snapshot(spacing=True):
    def value(citation, name):
        value = getattr(citation, name)
        return (
            value if spacing or not isinstance(value, str) else " ".join(value.split())
        )

    return {
        c.citekey: (
            [value(c, name) for name in FIELDS],
            [
                (a.family_name, a.given_name, a.is_collective)
                for a in c.ordered_authors()
            ],
        )
        for c in Citation.objects.with_authors()
    }


def wipe():
    Citation.objects.all().delete()
    Author.objects.all().delete()


@pytest.fixture
def exported(tmp_path):
    """The real records imported from PubMed and exported in each format."""
    run("import_pubmed", *REAL)
    files = {}
    for suffix in ("bib", "ris", "json"):
        files[suffix] = tmp_path / f"citations.{suffix}"
        run("export_citations", output=files[suffix])
    return files


@pytest.mark.parametrize("suffix", ["bib", "ris", "json"])
def test_export_then_import_gives_back_every_field(exported, suffix):
    # BibTeX and RIS (as references.formats writes them) keep no paragraph
    # breaks in abstracts; CSL-JSON keeps them.
    spacing = suffix == "json"
    before = snapshot(spacing)
    wipe()
    output = run("import_citations", exported[suffix])
    assert "4 created" in output
    assert snapshot(spacing) == before
    # The formats have no "review"; a new citation comes in as an article.
    assert Citation.objects.get(citekey="Olivero1990").publication_type == (
        Citation.PublicationType.JOURNAL_ARTICLE
    )


@pytest.mark.parametrize("suffix", ["bib", "ris", "json"])
def test_reimport_changes_nothing_and_keeps_a_review_a_review(exported, suffix):
    output = run("import_citations", exported[suffix])
    assert "Nothing to change: 0 created, 0 updated, 4 unchanged" in output
    assert Citation.objects.get(citekey="Olivero1990").publication_type == (
        Citation.PublicationType.REVIEW
    )


def test_bibtex_group_author_is_collective(exported):
    wipe()
    run("import_citations", exported["bib"])
    group = Author.objects.get(family_name="Canadian Respiratory Research Network")
    assert group.is_collective and group.given_name == ""


def test_dry_run_writes_nothing(exported):
    wipe()
    output = run("import_citations", exported["ris"], dry_run=True)
    assert "Would write: 4 created" in output
    assert not Citation.objects.exists()


def test_history_names_the_import(exported):
    wipe()
    run("import_citations", exported["json"])
    row = Citation.objects.get(citekey="Guo2018").history.get()
    assert row.history_change_reason == "import_citations citations.json"


def test_bibtex_key_taken_by_another_paper_gets_a_letter(exported):
    # Another paper already holds the key Guo2018.
    Citation.objects.filter(citekey="Guo2018").delete()
    make_citation(citekey="Guo2018", doi="10.1000/another")
    run("import_citations", exported["bib"])
    assert Citation.objects.get(pmid="29963580").citekey == "Guo2018b"


def test_changed_field_in_bibtex_updates_it(exported, tmp_path):
    # The exported BibTeX with Guo2018's volume changed from 5 to 7.
    text = exported["bib"].read_text()
    assert "volume = {5}" in text
    changed = variant(
        tmp_path, "changed.bib", text.replace("volume = {5}", "volume = {7}")
    )
    output = run("import_citations", changed)
    assert "updated   Guo2018 (Guo2018) (volume)" in output
    assert Citation.objects.get(citekey="Guo2018").volume == "7"


def test_malformed_bibtex_names_the_file_and_writes_nothing(exported, tmp_path):
    wipe()
    # The exported BibTeX cut inside its second entry.
    text = exported["bib"].read_text()
    second = text.index("@", 1)
    cut = variant(tmp_path, "cut.bib", text[: second + 40])
    with pytest.raises(CommandError) as raised:
        run("import_citations", exported["ris"], cut)
    assert "cut.bib" in str(raised.value) and "BibTeX" in str(raised.value)
    assert not Citation.objects.exists()


def test_ris_without_er_is_refused(exported, tmp_path):
    text = exported["ris"].read_text()
    broken = variant(tmp_path, "open.ris", text[: text.rindex("ER  -")])
    with pytest.raises(CommandError, match="open.ris: RIS: .*no ER line"):
        run("import_citations", broken)


def test_a_file_of_the_wrong_kind_is_refused(tmp_path):
    with pytest.raises(CommandError, match="unknown file type"):
        run("import_citations", DATA / "pubmed_29963580.xml")
    with pytest.raises(CommandError, match="CSL-JSON"):
        run("import_citations", DATA / "ctgov_NCT05894239.json")


def test_export_selects_and_picks_the_format_from_the_extension(exported, tmp_path):
    out = tmp_path / "review.ris"
    run("export_citations", output=out, publication_type="REVIEW")
    text = out.read_text()
    assert text.count("TY  - ") == 1 and "ID  - Olivero1990" in text
    bib = run("export_citations", year=2018)
    assert bib.startswith("@article{Guo2018,")
    assert (
        run("export_citations", search="heme flavin", format="csl").count('"id":') == 1
    )


def test_export_selects_as_the_api_filters_do(exported):
    # The journal in any case, words in the authors' names too, and a year
    # range from --since and --year together.
    assert Citation.objects.get(citekey="Guo2018").journal == (
        "J Med Imaging (Bellingham)"
    )
    journal = run("export_citations", journal="j med imaging (bellingham)")
    assert journal.startswith("@article{Guo2018,") and journal.count("@") == 1
    by_author = run("export_citations", search="Capaldi", format="csl")
    assert '"id": "Guo2018"' in by_author and by_author.count('"id":') == 1
    assert run("export_citations", year=2018, since=2019).strip() == ""
    assert run("export_citations", year=2018, since=2017).count("@") == 1
    doi = run("export_citations", doi=["https://doi.org/10.1117/1.JMI.5.2.026002"])
    assert doi.count("@") == 1


def test_export_with_a_bad_filter_value_is_refused(exported):
    with pytest.raises(CommandError, match="pmid: A PMID is a positive number"):
        run("export_citations", pmid=["PMC1"])


def test_export_of_an_unknown_citekey_is_refused(exported):
    with pytest.raises(CommandError, match="No citation with citekey Nobody2000"):
        run("export_citations", citekey=["Guo2018", "Nobody2000"])


def test_initials_run_together_in_a_file_get_full_stops(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(
        "@article{Swain2015, title={A trial}, author={Swain, SM and Baselga, J "
        "and others}, year={2015}}\n",
        encoding="utf-8",
    )
    run("import_citations", path)
    citation = Citation.objects.get(citekey="Swain2015")
    assert [(a.family_name, a.given_name) for a in citation.ordered_authors()] == [
        ("Swain", "S. M."),
        ("Baselga", "J."),
    ]
    assert citation.authors_truncated is True


def test_a_suffix_written_in_the_given_name_is_stored_as_the_suffix(tmp_path):
    path = tmp_path / "refs.json"
    path.write_text(
        '[{"id": "Geyer2006", "type": "article-journal", "title": "A trial",'
        ' "issued": {"date-parts": [[2006]]}, "author": ['
        '{"family": "Geyer", "given": "CE Jr"},'
        ' {"family": "Borg", "given": "Å"}]}]',
        encoding="utf-8",
    )
    run("import_citations", path)
    citation = Citation.objects.get(citekey="Geyer2006")
    assert [
        (a.family_name, a.given_name, a.suffix) for a in citation.ordered_authors()
    ] == [("Geyer", "C. E.", "Jr"), ("Borg", "Å.", "")]
