"""import_pubmed on real PubMed efetch records (tests/data/README.md).

Error cases use copies of those records with one thing broken or changed;
each test says what it changed.
"""

import os
import re

import pytest
from django.core.management.base import CommandError

from references.importers import registry
from references.importers.pubmed import expand_pages
from references.models import Author, Citation, CitationAuthor
from tests.conftest import make_citation, make_trial
from tests.importers import DATA, run, variant
from therapies.models import ChangeEntry

pytestmark = pytest.mark.django_db

GUO = DATA / "pubmed_29963580.xml"  # 9 authors, one a collective; DOI and PMCID
CLAASSENS = DATA / "pubmed_31479209.xml"  # structured abstract, NCT data bank
OLIVERO_STREKAS = DATA / "pubmed_12091962_9997.xml"  # a review without DOI; 1976


def authors_of(citation):
    return [
        (a.family_name, a.given_name, a.is_collective)
        for a in citation.ordered_authors()
    ]


def test_maps_every_field_of_a_record_with_collective_author_and_pmcid():
    run("import_pubmed", GUO)
    citation = Citation.objects.get()
    assert citation.citekey == "Guo2018"
    assert citation.pmid == "29963580"
    assert citation.doi == "10.1117/1.jmi.5.2.026002"
    assert citation.pmcid == "PMC6022861"
    assert citation.title == (
        "Development of a pulmonary imaging biomarker pipeline for phenotyping of "
        "chronic lung disease."
    )
    assert citation.journal == "J Med Imaging (Bellingham)"
    assert citation.year == 2018
    assert (citation.volume, citation.issue, citation.pages) == ("5", "2", "026002")
    assert citation.publication_type == Citation.PublicationType.JOURNAL_ARTICLE
    # MathML becomes its text; no markup is left.
    assert citation.abstract.startswith("We designed and generated pulmonary")
    assert "(1) inhaled He 3 / Xe 129 MRI ventilation" in citation.abstract
    assert "<" not in citation.abstract
    assert citation.abstract.endswith("high-throughput research.")
    assert authors_of(citation) == [
        ("Guo", "F.", False),
        ("Capaldi", "D.", False),
        ("Kirby", "M.", False),
        ("Sheikh", "K.", False),
        ("Svenningsen", "S.", False),
        ("McCormack", "D. G.", False),
        ("Fenster", "A.", False),
        ("Parraga", "G.", False),
        ("Canadian Respiratory Research Network", "", True),
    ]


def test_maps_structured_abstract_markup_and_links_the_registered_trial():
    trial = make_trial(nct_id="NCT01761786")
    output = run("import_pubmed", CLAASSENS)
    citation = Citation.objects.get()
    assert citation.citekey == "Claassens2019"
    assert citation.title == (
        "A Genotype-Guided Strategy for Oral P2Y12 Inhibitors in Primary PCI."
    )
    assert (citation.pmid, citation.doi, citation.pmcid) == (
        "31479209",
        "10.1056/nejmoa1907096",
        "",
    )
    assert (citation.journal, citation.year) == ("N. Engl. J. Med.", 2019)
    assert (citation.volume, citation.issue, citation.pages) == ("", "", "")
    sections = citation.abstract.split("\n\n")
    assert [s.split(":")[0] for s in sections] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert sections[0] == (
        "BACKGROUND: It is unknown whether patients undergoing primary percutaneous "
        "coronary intervention (PCI) benefit from genotype-guided selection of oral "
        "P2Y12 inhibitors."
    )
    assert "-2.0 to 0.7; P<0.001 for noninferiority)" in sections[2]  # &lt;
    assert authors_of(citation) == [
        ("Claassens", "D. M. F.", False),
        ("Vos", "G. J. A.", False),
    ]
    assert list(trial.publications.all()) == [citation]
    assert "created" in output


def test_reports_data_bank_trials_that_are_not_in_her2db():
    output = run("import_pubmed", CLAASSENS)
    assert "NCT01761786 is not in HER2db, not linked" in output


def test_maps_review_without_doi_and_a_second_record_in_the_file():
    run("import_pubmed", OLIVERO_STREKAS)
    review = Citation.objects.get(pmid="12091962")
    assert review.citekey == "Olivero1990"
    assert review.publication_type == Citation.PublicationType.REVIEW
    assert (review.doi, review.pmcid, review.abstract) == ("", "", "")
    assert (review.journal, review.year) == ("Soc Justice", 1990)  # Season date
    assert (review.volume, review.issue, review.pages) == ("17", "1", "113-125")
    assert authors_of(review) == [("Olivero", "J. M.", False)]
    other = Citation.objects.get(pmid="9997")
    assert other.citekey == "Strekas1976"
    assert other.doi == "10.1016/0005-2795(76)90109-4"
    assert (other.journal, other.year, other.pages) == (
        "Biochim Biophys Acta",
        1976,
        "179-191",
    )
    assert other.abstract.startswith("Electron paramagnetic resonance")


@pytest.mark.parametrize(
    "medline, full",
    [
        ("109-19", "109-119"),
        ("1501-3", "1501-1503"),
        ("3405-3420.e5", "3405-3420.e5"),
        ("e0194313", "e0194313"),
        ("R96", "R96"),
    ],
)
def test_expands_medline_page_ranges(medline, full):
    assert expand_pages(medline) == full


def test_second_run_changes_nothing_and_says_so():
    run("import_pubmed", GUO, OLIVERO_STREKAS)
    history = Citation.history.count()
    output = run("import_pubmed", GUO, OLIVERO_STREKAS)
    assert "Nothing to change: 0 created, 0 updated, 3 unchanged, 0 skipped." in output
    assert Citation.history.count() == history


def test_dry_run_shows_the_changes_and_writes_nothing():
    output = run("import_pubmed", GUO, dry_run=True)
    assert "created   PMID 29963580 as Guo2018" in output
    assert "Dry run: nothing was written." in output
    assert not Citation.objects.exists() and not Author.objects.exists()


def test_history_rows_name_the_import_and_the_user(django_user_model):
    user = django_user_model.objects.create(username="importer")
    run("import_pubmed", GUO, user="importer")
    created = Citation.objects.get().history.get()
    assert created.history_change_reason == "import_pubmed pubmed_29963580.xml"
    assert created.history_user == user
    link = Citation.objects.get().citation_authors.first().history.get()
    assert (link.history_user, link.history_change_reason) == (
        user,
        "import_pubmed pubmed_29963580.xml",
    )


def test_history_holds_one_created_row_per_imported_row_with_its_values():
    run("import_pubmed", GUO, OLIVERO_STREKAS)
    for model in (Citation, Author, CitationAuthor):
        rows = {row.pk: row for row in model.objects.all()}
        history = list(model.history.all())
        assert len(history) == len(rows) > 0
        fields = [f.attname for f in model._meta.concrete_fields]
        for entry in history:
            assert entry.history_type == "+"
            row = rows[entry.id]
            assert [getattr(entry, f) for f in fields] == [
                getattr(row, f) for f in fields
            ]
    strekas = Citation.history.get(pmid="9997")
    assert strekas.title.startswith("Magnetic studies of Chromatium")


def test_an_import_feeds_the_change_feed_once_per_new_record():
    run("import_pubmed", GUO)
    entries = list(ChangeEntry.objects.values_list("kind", "identifier", "action"))
    assert ("citation", "Guo2018", "created") in entries
    assert sorted(kind for kind, _, _ in entries) == ["author"] * 9 + ["citation"]
    assert all(action == "created" for _, _, action in entries)


def test_unknown_user_is_refused():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("import_pubmed", GUO, user="ghost")


def test_reimport_with_one_changed_field_updates_only_that_field(tmp_path):
    run("import_pubmed", GUO)
    # The real record with its volume changed from 5 to 6.
    changed = variant(
        tmp_path, "guo.xml", GUO.read_text().replace("<Volume>5<", "<Volume>6<")
    )
    output = run("import_pubmed", changed)
    assert "updated   PMID 29963580 (Guo2018) (volume)" in output
    assert "0 created, 1 updated, 0 unchanged" in output
    citation = Citation.objects.get()
    assert citation.volume == "6"
    latest = citation.history.first()
    assert latest.history_type == "~"
    assert latest.history_change_reason == "import_pubmed guo.xml"


def test_updates_a_curated_citation_matched_by_pmid_keeping_its_citekey():
    curated = make_citation(
        citekey="GuoCurated2018", pmid="29963580", title="Old title", journal=""
    )
    output = run("import_pubmed", GUO)
    curated.refresh_from_db()
    assert curated.citekey == "GuoCurated2018"
    assert curated.title.startswith("Development of a pulmonary imaging")
    assert curated.doi == "10.1117/1.jmi.5.2.026002"
    assert len(curated.ordered_authors()) == 9
    assert "updated   PMID 29963580 (GuoCurated2018)" in output
    assert "authors" in output and "title" in output


def test_matches_by_doi_when_the_pmid_is_new():
    curated = make_citation(citekey="Guo2018", doi="10.1117/1.JMI.5.2.026002")
    run("import_pubmed", GUO)
    curated.refresh_from_db()
    assert curated.pmid == "29963580"
    assert Citation.objects.count() == 1


def test_pmid_and_doi_of_two_different_citations_abort_the_run():
    make_citation(citekey="ByPmid2018", pmid="29963580")
    make_citation(citekey="ByDoi2018", doi="10.1117/1.jmi.5.2.026002")
    with pytest.raises(CommandError, match="ByPmid2018.*ByDoi2018"):
        run("import_pubmed", GUO)


def test_citekey_clash_gets_a_letter():
    make_citation(citekey="Guo2018", pmid="1")
    make_citation(citekey="Guo2018b", pmid="2")
    run("import_pubmed", GUO)
    assert Citation.objects.get(pmid="29963580").citekey == "Guo2018c"


def guo_twice(tmp_path):
    """The real record twice in one PubmedArticleSet."""
    text = GUO.read_text()
    start, end = text.index("<PubmedArticle>"), text.index("</PubmedArticleSet>")
    return variant(tmp_path, "twice.xml", text[:end] + text[start:end] + text[end:])


def test_duplicate_pmid_in_one_file_is_skipped_with_a_reason(tmp_path):
    output = run("import_pubmed", guo_twice(tmp_path))
    assert Citation.objects.count() == 1
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in output
    assert "same PMID 29963580 as PMID 29963580 earlier in this import" in output


def test_malformed_xml_aborts_and_writes_nothing(tmp_path):
    # The real record cut off in the middle of its abstract.
    text = GUO.read_text()
    cut = variant(tmp_path, "cut.xml", text[: text.index("ultrashort echo-time")])
    with pytest.raises(CommandError) as raised:
        run("import_pubmed", OLIVERO_STREKAS, cut)
    assert "cut.xml" in str(raised.value)
    assert "Nothing was written" in str(raised.value)
    assert not Citation.objects.exists() and not Author.objects.exists()


def test_a_file_of_the_wrong_kind_is_refused():
    with pytest.raises(CommandError, match="not an XML file"):
        run("import_pubmed", DATA / "ctgov_NCT05894239.json")


def test_record_without_a_title_names_the_file_and_record(tmp_path):
    # The second real record of the file with its ArticleTitle removed.
    text = OLIVERO_STREKAS.read_text()
    title = (
        "<ArticleTitle>Magnetic studies of Chromatium flavocytochrome C552. A "
        "mechanism for heme-flavin interaction.</ArticleTitle>"
    )
    assert title in text
    broken = variant(tmp_path, "untitled.xml", text.replace(title, ""))
    with pytest.raises(CommandError) as raised:
        run("import_pubmed", broken)
    message = str(raised.value)
    assert "untitled.xml: record 2 (PMID 9997): no ArticleTitle." in message
    assert not Citation.objects.exists()


def test_record_without_an_author_last_name_is_refused(tmp_path):
    # The real record with its first author's family name removed.
    broken = variant(
        tmp_path,
        "nameless.xml",
        GUO.read_text().replace("<LastName>Guo</LastName>", ""),
    )
    with pytest.raises(CommandError, match="record 1 .*author 1 has no LastName"):
        run("import_pubmed", broken)


def test_the_dtd_a_file_names_is_never_fetched(tmp_path):
    # The real record naming a PubMed DTD that does not exist, on a host that
    # does not resolve: the parser neither loads nor needs it.
    future = variant(
        tmp_path,
        "future.xml",
        GUO.read_text().replace(
            "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd",
            "https://dtd.invalid/pubmed_990101.dtd",
        ),
    )
    run("import_pubmed", future)
    assert Citation.objects.get().pmid == "29963580"


def test_external_entities_are_not_read(tmp_path):
    # The real record with an entity declared in the file pointing at a file
    # on the server, used in its title (an XXE attempt through an upload).
    secret = tmp_path / "secret.txt"
    secret.write_text("server-secret")
    text = GUO.read_text()
    doctype_end = text.index(">", text.index("<!DOCTYPE")) + 1
    declared = (
        text[: doctype_end - 1]
        + f' [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>'
        + text[doctype_end:]
    ).replace("chronic lung disease.</ArticleTitle>", "&secret;</ArticleTitle>")
    run("import_pubmed", variant(tmp_path, "xxe.xml", declared))
    citation = Citation.objects.get()
    assert "server-secret" not in citation.title
    assert citation.title.endswith("phenotyping of")


def test_an_xml_file_of_another_kind_is_refused(tmp_path):
    # The real record with its root element renamed (what an esummary, not an
    # efetch, would give).
    text = GUO.read_text().replace("PubmedArticleSet", "eSummaryResult")
    other = variant(tmp_path, "esummary.xml", text)
    with pytest.raises(CommandError, match="not a PubmedArticleSet.*<eSummaryResult>"):
        run("import_pubmed", other)
    assert not Citation.objects.exists()


def test_duplicate_in_a_later_chunk_is_skipped_too(tmp_path, monkeypatch):
    import references.importers.pubmed as import_pubmed

    monkeypatch.setattr(import_pubmed, "CHUNK", 1)
    # Read one record a chunk.
    output = run("import_pubmed", guo_twice(tmp_path))
    assert Citation.objects.count() == 1
    assert "the same paper as Guo2018, which an earlier record of this import" in output


# Large files are read in a second process from the command line
# (references.importers.background); BACKGROUND_BYTES = 0 sends the test files there.


@pytest.fixture
def background(monkeypatch):
    """Every file read in a second process; the calls are counted."""
    import references.importers.pubmed as import_pubmed

    calls = []
    read = import_pubmed.read_in_background

    def counted(*args):
        calls.append(args[1])
        return read(*args)

    monkeypatch.setattr(import_pubmed, "BACKGROUND_BYTES", 0)
    monkeypatch.setattr(import_pubmed, "read_in_background", counted)
    return calls


def citations_as_read():
    return [
        (c.citekey, c.pmid, c.doi, c.title, c.abstract, c.year, c.pages)
        + tuple(authors_of(c))
        for c in Citation.objects.order_by("pmid")
    ]


def test_reading_in_a_second_process_gives_the_same_citations(background):
    run("import_pubmed", GUO, CLAASSENS, OLIVERO_STREKAS)
    assert background == [GUO, CLAASSENS, OLIVERO_STREKAS]
    read_apart = citations_as_read()
    Citation.objects.all().delete()
    importer = registry.get("pubmed")
    importer.import_files([GUO, CLAASSENS, OLIVERO_STREKAS])  # one process
    assert len(background) == 3
    assert citations_as_read() == read_apart and len(read_apart) == 4


def test_a_bad_record_read_in_a_second_process_names_it_and_writes_nothing(
    tmp_path, background
):
    # The second real record of the file with its ArticleTitle removed.
    text = OLIVERO_STREKAS.read_text()
    broken = variant(
        tmp_path,
        "untitled.xml",
        re.sub(r"<ArticleTitle>Magnetic.*?</ArticleTitle>", "", text, flags=re.S),
    )
    with pytest.raises(CommandError) as raised:
        run("import_pubmed", GUO, broken)
    assert background == [GUO, broken]
    assert "untitled.xml: record 2 (PMID 9997): no ArticleTitle." in str(raised.value)
    assert not Citation.objects.exists() and not Author.objects.exists()


def test_a_reading_process_that_dies_is_reported(background, monkeypatch):
    import references.importers.pubmed as import_pubmed

    def killed(path):
        os._exit(3)  # as if the reading process ran out of memory
        yield

    monkeypatch.setattr(import_pubmed, "read_records", killed)
    with pytest.raises(CommandError, match="process reading it stopped .*exit code 3"):
        run("import_pubmed", GUO)
    assert not Citation.objects.exists()


def test_an_incomplete_author_list_and_a_suffix_are_kept(tmp_path):
    # GUO's record with its author list marked incomplete (CompleteYN="N")
    # and a suffix on its first author.
    text = GUO.read_text().replace(
        '<AuthorList CompleteYN="Y">', '<AuthorList CompleteYN="N">'
    )
    text = text.replace(
        "<Initials>F</Initials>", "<Initials>F</Initials>\n<Suffix>Jr</Suffix>", 1
    )
    run("import_pubmed", variant(tmp_path, "incomplete.xml", text))
    citation = Citation.objects.get()
    assert citation.authors_truncated is True
    first = citation.ordered_authors()[0]
    assert (first.family_name, first.given_name, first.suffix) == ("Guo", "F.", "Jr")
    assert citation.as_csl()["author"][-1] == {"literal": "others"}
