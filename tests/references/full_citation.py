"""A citation with every field filled, and what each format reads back from it."""

from references.models import Author, Citation, CitationAuthor
from tests.conftest import make_author, make_citation

TITLE = "Pertuzumab & trastuzumab in HER2-positive breast cancer: 45% responded"
URL = "https://example.org/papers/1?a=1;b=2"

# What every parser should give back for make_full_citation().
EXPECTED = {
    "citekey": "Cortes2020",
    "title": TITLE,
    "journal": "N Engl J Med",
    "year": 2020,
    "volume": "382",
    "issue": "7",
    "pages": "610-621",
    "doi": "10.1000/her2db.test.0001",
    "pmid": "12345678",
    "pmcid": "PMC1234567",
    "url": URL,
    "abstract": "Dual HER2 blockade improved outcomes.",
    "publication_type": "JOURNAL_ARTICLE",
    "authors": [
        ("Cortés", "Javier"),
        ("HERA Study Group", ""),
        ("von Minckwitz", "Gunter"),
    ],
}


def add_authors(citation: Citation, names: list[tuple[str, str]]) -> None:
    for position, (family, given) in enumerate(names, 1):
        author = Author.objects.filter(family_name=family, given_name=given).first()
        author = author or make_author(
            family_name=family, given_name=given, is_collective=not given
        )
        CitationAuthor.objects.create(
            citation=citation, author=author, position=position
        )


def fetch(*citations: Citation) -> list[Citation]:
    """The citations as callers pass them: in order, with authors prefetched."""
    by_pk = Citation.objects.with_authors().in_bulk([c.pk for c in citations])
    return [by_pk[citation.pk] for citation in citations]


def make_full_citation() -> Citation:
    fields = {
        name: value
        for name, value in EXPECTED.items()
        if name not in ("authors", "publication_type")
    }
    citation = make_citation(**fields)
    add_authors(citation, EXPECTED["authors"])
    return fetch(citation)[0]
