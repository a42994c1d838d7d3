import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from references.identifiers import normalise_doi
from references.models import Author, Citation, CitationAuthor
from tests.conftest import errors_of, make_author, make_citation

pytestmark = pytest.mark.django_db


def build(**kw) -> Citation:
    kw.setdefault("citekey", "Test2020")
    kw.setdefault("title", "A title")
    return Citation(**kw)


@pytest.mark.parametrize(
    "field,good,bad,message",
    [
        ("pmid", "22149875", "PMID22149875", "A PMID is a positive number"),
        ("pmid", "1", "0123", "A PMID is a positive number"),
        ("doi", "10.1056/nejmoa1113216", "11.1056/x", "A DOI looks like"),
        ("pmcid", "PMC5705202", "5705202", "A PMCID looks like"),
        ("citekey", "vonMinckwitz2017", "2017vonMinckwitz", "A citekey starts with"),
        ("citekey", "Baselga2012a", "Baselga 2012", "A citekey starts with"),
    ],
)
def test_identifier_formats_are_validated(field, good, bad, message):
    build(**{field: good}).full_clean()
    errors = errors_of(build(**{field: bad}))
    assert message in errors[field][0]


def test_doi_is_normalised_to_lower_case_without_resolver():
    assert normalise_doi(" https://doi.org/10.1056/NEJMoa1113216 ") == (
        "10.1056/nejmoa1113216"
    )
    citation = make_citation(doi="doi:10.1200/JCO.2014.55.5730")
    citation.refresh_from_db()
    assert citation.doi == "10.1200/jco.2014.55.5730"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("pmid", "22149875", "Another citation has this PMID."),
        ("doi", "10.1056/nejmoa1113216", "Another citation has this DOI."),
        ("pmcid", "PMC5705202", "Another citation has this PMCID."),
    ],
)
def test_identifiers_are_unique_with_a_readable_message(field, value, message):
    make_citation(**{field: value})
    duplicate = build(citekey="Other2020", **{field: value})
    assert message in str(errors_of(duplicate))
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_many_citations_may_lack_identifiers():
    make_citation()
    make_citation()
    assert Citation.objects.filter(pmid="", doi="", pmcid="").count() == 2


def test_duplicate_citekey_is_refused():
    make_citation(citekey="Same2020")
    assert "citekey" in errors_of(build(citekey="Same2020"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(citekey="Same2020", title="x")


def test_year_range_is_a_named_constraint():
    build(year=2025).full_clean()
    assert "between 1800 and 2100" in str(errors_of(build(year=1700)))
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(citekey="Old1700", title="x", year=1700)


def test_title_is_required_at_the_database_too():
    assert "title" in errors_of(build(title=""))
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(citekey="NoTitle2020", title="")


def test_retraction_date_needs_the_retracted_flag():
    from datetime import date

    assert "Only a retracted citation" in str(
        errors_of(build(retraction_date=date(2024, 1, 1)))
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(
            citekey="Retr2020", title="x", retraction_date=date(2024, 1, 1)
        )
    build(retracted=True, retraction_date=date(2024, 1, 1)).full_clean()


def test_author_positions_are_unique_and_start_at_one():
    citation = make_citation(authors=1)
    taken = CitationAuthor(citation=citation, author=make_author(), position=1)
    assert "Two authors cannot share a position." in str(errors_of(taken))
    zero = CitationAuthor(citation=citation, author=make_author(), position=0)
    assert "position" in errors_of(zero)
    with pytest.raises(IntegrityError), transaction.atomic():
        CitationAuthor.objects.create(
            citation=citation, author=make_author(), position=0
        )


def test_author_names_are_unique_and_orcid_validated():
    make_author(family_name="Baselga", given_name="J")
    assert "already exists" in str(
        errors_of(Author(family_name="Baselga", given_name="J"))
    )
    assert "ORCID" in str(errors_of(Author(family_name="X", orcid="1234")))
    Author(family_name="X", orcid="0000-0002-1825-0097").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(family_name="")


def test_citation_lists_authors_in_order():
    citation = make_citation()
    second, first = make_author(family_name="Second"), make_author(family_name="First")
    CitationAuthor.objects.create(citation=citation, author=second, position=2)
    CitationAuthor.objects.create(citation=citation, author=first, position=1)
    fetched = Citation.objects.with_authors().get(pk=citation.pk)
    assert [a.family_name for a in fetched.ordered_authors()] == ["First", "Second"]
    assert fetched.short_authors() == "First et al."


def test_author_with_citations_cannot_be_deleted():
    citation = make_citation(authors=1)
    author = citation.authors.get()
    with pytest.raises(ProtectedError):
        author.delete()
    assert Author.objects.filter(pk=author.pk).exists()
