"""BibTeX: the exact export, read-backs, other tools' files."""

import bibtexparser
import pytest
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)

from references.formats import parse_bibtex, to_bibtex
from references.models import Citation, CitationAuthor
from tests.conftest import make_author, make_citation
from tests.references.full_citation import TITLE, URL, fetch, make_full_citation

pytestmark = pytest.mark.django_db

Type = Citation.PublicationType


def test_bibtex_export_is_exactly_this():
    assert to_bibtex([make_full_citation()]) == (
        "@article{Cortes2020,\n"
        "\tauthor = {Cortés, Javier and {HERA Study Group} and von Minckwitz,"
        " Gunter},\n"
        "\ttitle = {{Pertuzumab \\& trastuzumab in HER2-positive breast cancer:"
        " 45\\% responded}},\n"
        "\tjournal = {N Engl J Med},\n"
        "\tyear = {2020},\n"
        "\tvolume = {382},\n"
        "\tnumber = {7},\n"
        "\tpages = {610--621},\n"
        "\tdoi = {10.1000/her2db.test.0001},\n"
        "\tpmid = {12345678},\n"
        "\tpmcid = {PMC1234567},\n"
        "\turl = {https://example.org/papers/1?a=1;b=2},\n"
        "\tabstract = {Dual HER2 blockade improved outcomes.}\n"
        "}\n"
    )


def test_bibtexparser_reads_our_bibtex():
    text = to_bibtex([make_full_citation()])
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    assert library.failed_blocks == []
    (entry,) = library.entries
    assert (entry.entry_type, entry.key) == ("article", "Cortes2020")
    assert [(name.von, name.last, name.first) for name in entry["author"]] == [
        ([], ["Cortés"], ["Javier"]),
        ([], ["{HERA Study Group}"], []),
        (["von"], ["Minckwitz"], ["Gunter"]),
    ]
    assert {key: entry[key] for key in ("year", "pages", "doi", "pmid", "url")} == {
        "year": "2020",
        "pages": "610--621",
        "doi": "10.1000/her2db.test.0001",
        "pmid": "12345678",
        "url": URL,
    }
    decoded = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware()]
    )
    assert decoded.entries[0]["title"] == TITLE
    assert decoded.entries[0]["journal"] == "N Engl J Med"


def test_bibtex_escapes_latex_specials_and_reads_them_back():
    title = r"Odd \ {braces} & 5% $ #1 snake_case ~ 2^3 characters"
    citation = fetch(make_citation(title=title))[0]
    text = to_bibtex([citation])
    assert (
        r"title = {{Odd \textbackslash{} \{braces\} \& 5\% \$ \#1 snake\_case"
        r" \textasciitilde{} 2^3 characters}}"
    ) in text
    assert parse_bibtex(text)[0]["title"] == title


@pytest.mark.parametrize(
    "family,given,is_collective,written",
    [
        ("Cortés", "Javier", False, "Cortés, Javier"),
        ("de la Cruz", "Ana", False, "de la Cruz, Ana"),
        ("Garcia Lopez", "", False, "{Garcia Lopez}"),
        (
            "Breast International Group, BIG",
            "",
            True,
            "{Breast International Group, BIG}",
        ),
    ],
)
def test_bibtex_names_keep_family_and_given_apart(
    family, given, is_collective, written
):
    citation = make_citation()
    author = make_author(
        family_name=family, given_name=given, is_collective=is_collective
    )
    CitationAuthor.objects.create(citation=citation, author=author, position=1)
    text = to_bibtex(fetch(citation))
    assert f"author = {{{written}}}" in text
    assert parse_bibtex(text)[0]["authors"] == [(family, given)]


# RIS


def test_bibtex_writes_the_container_of_a_chapter_as_booktitle():
    citation = make_citation(
        publication_type=Type.BOOK_CHAPTER, journal="Adv Exp Med Biol"
    )
    text = to_bibtex(fetch(citation))
    assert "booktitle = {Adv Exp Med Biol}" in text
    assert "journal =" not in text
    assert parse_bibtex(text)[0]["journal"] == "Adv Exp Med Biol"


def test_parse_bibtex_reads_latex_strings_and_biblatex_dates():
    text = r"""
@string{jco = "J Clin Oncol"}
@Article{2019baselga,
  Author = {Baselga, J. and M{\"u}ller, Anna and {Breast International Group}
            and de la Cruz, Ana and Smith, Jr., John},
  Title = {Neoadjuvant {HER2} blockade:
           a randomised trial with 50% responses},
  journal = jco,
  date = {2019-05-01},
  number = {3},
  pages = {100 -- 110},
  doi = {https://doi.org/10.1200/JCO.2018.99.1234},
  url = {https://example.org/a%20b_c},
}
"""
    assert parse_bibtex(text) == [
        {
            "citekey": "",  # "2019baselga" cannot be a HER2db citekey
            "title": "Neoadjuvant HER2 blockade: a randomised trial with 50% responses",
            "journal": "J Clin Oncol",
            "year": 2019,
            "volume": "",
            "issue": "3",
            "pages": "100-110",
            "doi": "10.1200/jco.2018.99.1234",
            "pmid": "",
            "pmcid": "",
            "url": "https://example.org/a%20b_c",
            "abstract": "",
            "publication_type": "JOURNAL_ARTICLE",
            "authors": [
                ("Baselga", "J."),
                ("Müller", "Anna"),
                ("Breast International Group", ""),
                ("de la Cruz", "Ana"),
                ("Smith", "John Jr."),
            ],
        }
    ]
