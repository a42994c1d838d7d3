"""CSL-JSON, and what all three formats share: round trips, types, bad input."""

import json
from hashlib import sha256
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings

from references.formats import (
    MEDIA_TYPES,
    FormatError,
    as_csl,
    parse_bibtex,
    parse_csl_json,
    parse_ris,
    to_bibtex,
    to_csl_json,
    to_ris,
)
from references.models import Citation, CitationAuthor
from tests.conftest import make_author, make_citation
from tests.references.full_citation import (
    EXPECTED,
    TITLE,
    URL,
    fetch,
    make_full_citation,
)

pytestmark = pytest.mark.django_db

Type = Citation.PublicationType

# Prefer the copy kept with the tests, so they run without ../shared.
BUNDLED_SCHEMA = Path(__file__).resolve().parent.parent / "data" / "csl-data.json"
SHARED_SCHEMA = Path(settings.BASE_DIR).parent / "shared" / "schemas" / "csl-data.json"
SHARED_SCHEMA_SHA256 = (
    "23b2c062d7526060f4631bb04b4b3ba237e488484253e327bd00fa691861b811"
)


def load_schema() -> dict:
    path = BUNDLED_SCHEMA if BUNDLED_SCHEMA.exists() else SHARED_SCHEMA
    return json.loads(path.read_text(encoding="utf-8"))


# CSL-JSON


def test_as_csl_gives_every_field_and_a_literal_for_a_group():
    assert as_csl(make_full_citation()) == {
        "id": "Cortes2020",
        "type": "article-journal",
        "title": TITLE,
        "author": [
            {"family": "Cortés", "given": "Javier"},
            {"literal": "HERA Study Group"},
            {"family": "von Minckwitz", "given": "Gunter"},
        ],
        "container-title": "N Engl J Med",
        "issued": {"date-parts": [[2020]]},
        "volume": "382",
        "issue": "7",
        "page": "610-621",
        "DOI": "10.1000/her2db.test.0001",
        "PMID": "12345678",
        "PMCID": "PMC1234567",
        "URL": URL,
        "abstract": "Dual HER2 blockade improved outcomes.",
    }


def test_as_csl_leaves_out_empty_fields():
    citation = make_citation(citekey="Bare2020", title="Bare", journal="", year=None)
    assert as_csl(fetch(citation)[0]) == {
        "id": "Bare2020",
        "type": "article-journal",
        "title": "Bare",
    }


def test_csl_json_is_valid_against_the_csl_schema():
    citations = [make_full_citation()]
    for publication_type in Type:
        citation = make_citation(publication_type=publication_type, authors=1)
        citations.append(fetch(citation)[0])
    items = json.loads(to_csl_json(citations))
    assert len(items) == len(Type) + 1
    jsonschema.validate(items, load_schema())


@pytest.mark.parametrize(
    "items",
    [
        [{"id": "x", "type": "journal-article"}],
        [{"id": "x", "type": "article", "author": [{"name": "Cortés"}]}],
        [{"id": "x", "type": "article", "issued": {"date-parts": [2020]}}],
        {"id": "x", "type": "article"},
    ],
)
def test_the_csl_schema_check_rejects_bad_items(items):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(items, load_schema())


def test_bundled_csl_schema_is_the_shared_one():
    # The copy kept with the tests is byte for byte the shared one, whose
    # SHA-256 is recorded here (SHARED_SCHEMA_SHA256) for the checkouts (CI's
    # among them) that have no ../shared beside them to compare with.
    assert sha256(BUNDLED_SCHEMA.read_bytes()).hexdigest() == SHARED_SCHEMA_SHA256
    if SHARED_SCHEMA.exists():
        assert SHARED_SCHEMA.read_bytes() == BUNDLED_SCHEMA.read_bytes()


def test_csl_json_writes_non_ascii_as_text():
    citation = make_full_citation()
    text = to_csl_json([citation])
    assert '"family": "Cortés"' in text
    assert json.loads(text) == [as_csl(citation)]


# All three formats


WRITERS_AND_PARSERS = pytest.mark.parametrize(
    "write,parse",
    [(to_csl_json, parse_csl_json), (to_bibtex, parse_bibtex), (to_ris, parse_ris)],
    ids=["csl", "bibtex", "ris"],
)


@WRITERS_AND_PARSERS
def test_export_then_parse_gives_the_same_fields(write, parse):
    assert parse(write([make_full_citation()])) == [EXPECTED]


@WRITERS_AND_PARSERS
def test_export_then_parse_keeps_order_and_bare_citations(write, parse):
    bare = make_citation(citekey="Bare1999", title="Bare", journal="", year=None)
    parsed = parse(write(fetch(make_full_citation(), bare)))
    assert [record["citekey"] for record in parsed] == ["Cortes2020", "Bare1999"]
    assert parsed[1] == {
        **dict.fromkeys(EXPECTED, ""),
        "citekey": "Bare1999",
        "title": "Bare",
        "year": None,
        "publication_type": "JOURNAL_ARTICLE",
        "authors": [],
    }


def shortened_citation():
    """A citation whose list is known to be shortened, with a suffix and a group."""
    citation = make_citation(
        citekey="Swain2015", title="A trial", authors_truncated=True
    )
    for position, names in enumerate(
        [
            {"family_name": "Swain", "given_name": "S. M."},
            {"family_name": "Baselga", "given_name": "J.", "suffix": "Jr"},
            {"family_name": "CLEOPATRA Study Group", "is_collective": True},
        ],
        1,
    ):
        CitationAuthor.objects.create(
            citation=citation, author=make_author(**names), position=position
        )
    return fetch(citation)


def test_every_export_marks_a_shortened_list_and_keeps_initials_and_suffixes():
    citations = shortened_citation()
    assert as_csl(citations[0])["author"] == [
        {"family": "Swain", "given": "S. M."},
        {"family": "Baselga", "given": "J.", "suffix": "Jr"},
        {"literal": "CLEOPATRA Study Group"},
        {"literal": "others"},
    ]
    assert (
        "author = {Swain, S. M. and Baselga, Jr, J. and {CLEOPATRA Study Group} "
        "and others}"
    ) in to_bibtex(citations)
    ris = to_ris(citations)
    assert (
        "AU  - Swain, S. M.\nAU  - Baselga, J., Jr\nAU  - CLEOPATRA Study Group\n"
        "AU  - et al.\n"
    ) in ris


@WRITERS_AND_PARSERS
def test_a_shortened_list_reads_back_as_shortened(write, parse):
    (parsed,) = parse(write(shortened_citation()))
    assert parsed["authors_truncated"] is True
    assert parsed["authors"][0] == ("Swain", "S. M.")
    assert len(parsed["authors"]) == 3


# publication type: CSL, BibTeX and RIS type, then the type each reads back as.
TYPE_TABLE = {
    Type.JOURNAL_ARTICLE: ("article-journal", "article", "JOUR", "JOURNAL_ARTICLE"),
    Type.REVIEW: ("article-journal", "article", "JOUR", "JOURNAL_ARTICLE"),
    Type.CONFERENCE_ABSTRACT: (
        "paper-conference",
        "inproceedings",
        "CONF",
        "CONFERENCE_ABSTRACT",
    ),
    Type.BOOK_CHAPTER: ("chapter", "incollection", "CHAP", "BOOK_CHAPTER"),
    Type.PREPRINT: ("article", "misc", "UNPB", "PREPRINT"),
    Type.LABEL: ("document", "misc", "GEN", "OTHER"),
    Type.OTHER: ("document", "misc", "GEN", "OTHER"),
}


def test_the_type_table_covers_every_publication_type():
    assert set(TYPE_TABLE) == set(Type)


@pytest.mark.parametrize("publication_type", list(TYPE_TABLE))
def test_publication_types_map_in_every_format(publication_type):
    csl, bibtex, ris, read_back = TYPE_TABLE[publication_type]
    citations = fetch(make_citation(publication_type=publication_type))
    assert as_csl(citations[0])["type"] == csl
    assert to_bibtex(citations).startswith(f"@{bibtex}{{")
    assert to_ris(citations).startswith(f"TY  - {ris}\n")
    assert parse_csl_json(to_csl_json(citations))[0]["publication_type"] == (
        "PREPRINT" if publication_type == Type.PREPRINT else read_back
    )
    assert parse_ris(to_ris(citations))[0]["publication_type"] == read_back
    # BibTeX's @misc cannot tell a preprint from anything else.
    assert parse_bibtex(to_bibtex(citations))[0]["publication_type"] == (
        "OTHER" if bibtex == "misc" else read_back
    )


def test_exports_run_no_queries_beyond_the_prefetch(django_assert_num_queries):
    make_full_citation()
    make_citation(authors=2)
    # 1 citations, 1 citation authors joined to their authors
    with django_assert_num_queries(2):
        citations = list(Citation.objects.with_authors())
        to_csl_json(citations)
        to_bibtex(citations)
        to_ris(citations)


def test_media_types():
    assert MEDIA_TYPES == {
        "csl": "application/vnd.citationstyles.csl+json",
        "bibtex": "application/x-bibtex",
        "ris": "application/x-research-info-systems",
    }


# Files written by other tools


def test_parse_csl_json_reads_a_single_item_as_doi_org_returns_it():
    item = {
        "id": "https://doi.org/10.1200/JCO.2018.99.1234",
        "type": "article-journal",
        "title": "Neoadjuvant HER2 blockade",
        "container-title": "Journal of Clinical Oncology",
        "author": [
            {"family": "Veer", "given": "Laura", "non-dropping-particle": "van 't"},
            {"literal": "HERA Study Group"},
            {"family": "Smith", "given": "John", "suffix": "Jr."},
        ],
        "issued": {"date-parts": [["2019", 5, 1]]},
        "volume": 37,
        "page": "100\u2013110",
        "DOI": "10.1200/JCO.2018.99.1234",
        "PMID": 31234567,
    }
    assert parse_csl_json(json.dumps(item)) == [
        {
            "citekey": "",
            "title": "Neoadjuvant HER2 blockade",
            "journal": "Journal of Clinical Oncology",
            "year": 2019,
            "volume": "37",
            "issue": "",
            "pages": "100-110",
            "doi": "10.1200/jco.2018.99.1234",
            "pmid": "31234567",
            "pmcid": "",
            "url": "",
            "abstract": "",
            "publication_type": "JOURNAL_ARTICLE",
            "authors": [
                ("van 't Veer", "Laura"),
                ("HERA Study Group", ""),
                ("Smith", "John Jr."),
            ],
        }
    ]


# Malformed input


def ris(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "parse,text,message",
    [
        (parse_bibtex, '[{"id": "x"}]', "No BibTeX entries found"),
        (parse_bibtex, "", "No BibTeX entries found"),
        (
            parse_bibtex,
            "@article{Good2020, title = {Fine}}\n\n"
            "@article{Broken2020,\n  title = {Open brace,\n  year = {2020}\n}\n",
            'BibTeX entry "Broken2020" (line 3) cannot be read',
        ),
        (
            parse_bibtex,
            "@article{Twice2020, title = {A}}\n@article{Twice2020, title = {B}}",
            'BibTeX entry "Twice2020" (line 2) uses a key that an earlier entry',
        ),
        (
            parse_bibtex,
            "@article{Field2020, title = {A}, title = {B}}",
            'BibTeX entry "Field2020" (line 1) has the field title twice.',
        ),
        (
            parse_bibtex,
            "@article{NoTitle2020, year = {2020}}",
            'BibTeX entry "NoTitle2020" has no title.',
        ),
        (
            parse_bibtex,
            "@article{Ok2020, title = {A}}\n@article{, year = {2020}}",
            "BibTeX entry 2 has no title.",
        ),
        (
            parse_bibtex,
            "@article{BadYear2020, title = {A}, year = {twenty}}",
            "BibTeX entry \"BadYear2020\": 'twenty' is not a year.",
        ),
        (
            parse_bibtex,
            "@article{Old1700, title = {A}, year = {1700}}",
            'BibTeX entry "Old1700": year 1700: The year must lie between 1800',
        ),
        (
            parse_bibtex,
            "@article{BadDoi2020, title = {A}, doi = {11.1056/x}}",
            "BibTeX entry \"BadDoi2020\": DOI '11.1056/x': A DOI looks like",
        ),
        (
            parse_bibtex,
            "@article{BadUrl2020, title = {A}, url = {not a url}}",
            "BibTeX entry \"BadUrl2020\": URL 'not a url': Enter a valid URL.",
        ),
        (
            parse_bibtex,
            "@article{Names2020, title = {A}, author = {a, b, c, d}}",
            'BibTeX entry "Names2020" (line 1) cannot be read: Cannot split',
        ),
        (parse_ris, "@article{x, title = {y}}", "No RIS records found"),
        (parse_ris, ris("TY  - JOUR", "TI  - A"), "RIS record 1 (line 1) has no ER"),
        (
            parse_ris,
            ris("TY  - JOUR", "TI  - A", "TY  - JOUR", "TI  - B", "ER  - "),
            "RIS record 1 (line 1) has no ER line before the next TY on line 3.",
        ),
        (parse_ris, ris("TI  - A", "ER  - "), "RIS line 2: ER outside a record."),
        (
            parse_ris,
            ris("TY  - JOUR", "ID  - NoTitle2020", "PY  - 2020", "ER  - "),
            'RIS record 1 "NoTitle2020" has no title.',
        ),
        (
            parse_ris,
            ris(
                "TY  - JOUR", "TI  - A", "ER  - ", "TY  - JOUR", "PY  - 2020", "ER  - "
            ),
            "RIS record 2 has no title.",
        ),
        (
            parse_ris,
            ris("TY  - JOUR", "TI  - A", "PY  - n.d.", "ER  - "),
            "RIS record 1: 'n.d.' is not a year.",
        ),
        (
            parse_ris,
            ris("TY  - JOUR", "TI  - A", "AN  - 0123", "ER  - "),
            "RIS record 1: PMID '0123': A PMID is a positive number",
        ),
        (
            parse_ris,
            ris("TY  - JOUR", "TI  - A", "AU  - Cortés, J", "AU  - , Javier", "ER  - "),
            "RIS record 1: author 2 has no family name.",
        ),
        (parse_csl_json, "TY  - JOUR", "Not CSL-JSON"),
        (parse_csl_json, '"text"', "CSL-JSON must be a list of items."),
        (parse_csl_json, "[1]", "CSL-JSON item 1 is not an object."),
        (
            parse_csl_json,
            '[{"id": "NoTitle2020", "type": "article-journal"}]',
            'CSL-JSON item 1 "NoTitle2020" has no title.',
        ),
        (parse_csl_json, '[{"title": "A"}]', "CSL-JSON item 1 has no type."),
        (
            parse_csl_json,
            '[{"type": "article", "title": ["A"]}]',
            "CSL-JSON item 1: title must be text, not ['A'].",
        ),
        (
            parse_csl_json,
            '[{"type": "article", "title": "A", "issued": {"date-parts": [["soon"]]}}]',
            "CSL-JSON item 1: 'soon' is not a year.",
        ),
        (
            parse_csl_json,
            '[{"type": "article", "title": "A", "issued": {"date-parts": [[1700]]}}]',
            "CSL-JSON item 1: year 1700: The year must lie between 1800 and 2100.",
        ),
        (
            parse_csl_json,
            '[{"type": "article", "title": "A", "author": [{"given": "Javier"}]}]',
            "CSL-JSON item 1: author 1 has no family name.",
        ),
        (
            parse_csl_json,
            '[{"type": "article", "title": "A", "author": ["Cortés"]}]',
            "CSL-JSON item 1: author 1 is not a CSL name object.",
        ),
        (
            parse_csl_json,
            '[{"type": "article", "title": "A", "PMCID": "12345"}]',
            "CSL-JSON item 1: PMCID '12345': A PMCID looks like",
        ),
    ],
)
def test_malformed_input_raises_a_format_error_naming_the_entry(parse, text, message):
    with pytest.raises(FormatError) as info:
        parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
