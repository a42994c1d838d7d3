"""Citations to and from CSL-JSON, BibTeX and RIS.

The writers take citations fetched with ``Citation.objects.with_authors()`` and
run no queries of their own. The parsers return plain dicts shaped like
``ParsedCitation`` for the importers, and raise ``FormatError`` naming the
entry when the input is malformed. Nothing here touches the database.

Each format has fewer publication types than HER2db, so a round trip keeps
the type only where the format can tell it apart: REVIEW comes back as a
journal article, LABEL as OTHER, and in BibTeX PREPRINT as OTHER too.

RIS has no tag for PubMed identifiers. We follow EndNote, whose PubMed
records put the PMID in the accession number (AN, with DB "PubMed") and the
PMCID in Custom 2 (C2).
"""

import json
import re
from collections.abc import Iterable
from typing import Any, TypedDict

import bibtexparser
import rispy
from bibtexparser.middlewares import (
    NameParts,
    NormalizeFieldKeys,
    SeparateCoAuthors,
    SplitNameParts,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)
from django.core.exceptions import ValidationError

# pylatexenc comes with bibtexparser 2, whose own LaTeX decoding uses it.
from pylatexenc.latex2text import LatexNodes2Text

from references.models import Author, Citation, normalise_doi

__all__ = [
    "MEDIA_TYPES",
    "FormatError",
    "ParsedCitation",
    "as_csl",
    "to_csl_json",
    "to_bibtex",
    "to_ris",
    "parse_csl_json",
    "parse_bibtex",
    "parse_ris",
]

MEDIA_TYPES = {
    "csl": "application/vnd.citationstyles.csl+json",
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
}

PublicationType = Citation.PublicationType

CSL_TYPES = {
    PublicationType.JOURNAL_ARTICLE: "article-journal",
    PublicationType.REVIEW: "article-journal",
    PublicationType.CONFERENCE_ABSTRACT: "paper-conference",
    PublicationType.BOOK_CHAPTER: "chapter",
    PublicationType.PREPRINT: "article",  # CSL's "article" is the type for preprints.
    PublicationType.LABEL: "document",
    PublicationType.OTHER: "document",
}
BIBTEX_TYPES = {
    PublicationType.JOURNAL_ARTICLE: "article",
    PublicationType.REVIEW: "article",
    PublicationType.CONFERENCE_ABSTRACT: "inproceedings",
    PublicationType.BOOK_CHAPTER: "incollection",
    PublicationType.PREPRINT: "misc",
    PublicationType.LABEL: "misc",
    PublicationType.OTHER: "misc",
}
RIS_TYPES = {
    PublicationType.JOURNAL_ARTICLE: "JOUR",
    PublicationType.REVIEW: "JOUR",
    PublicationType.CONFERENCE_ABSTRACT: "CONF",
    PublicationType.BOOK_CHAPTER: "CHAP",
    PublicationType.PREPRINT: "UNPB",
    PublicationType.LABEL: "GEN",
    PublicationType.OTHER: "GEN",
}

# Types read on import; anything else becomes OTHER.
CSL_IMPORT_TYPES = {
    "article-journal": PublicationType.JOURNAL_ARTICLE,
    "paper-conference": PublicationType.CONFERENCE_ABSTRACT,
    "chapter": PublicationType.BOOK_CHAPTER,
    "article": PublicationType.PREPRINT,
}
BIBTEX_IMPORT_TYPES = {
    "article": PublicationType.JOURNAL_ARTICLE,
    "inproceedings": PublicationType.CONFERENCE_ABSTRACT,
    "conference": PublicationType.CONFERENCE_ABSTRACT,
    "incollection": PublicationType.BOOK_CHAPTER,
    "inbook": PublicationType.BOOK_CHAPTER,
    "unpublished": PublicationType.PREPRINT,
}
RIS_IMPORT_TYPES = {
    "JOUR": PublicationType.JOURNAL_ARTICLE,
    "EJOUR": PublicationType.JOURNAL_ARTICLE,
    "JFULL": PublicationType.JOURNAL_ARTICLE,
    "INPR": PublicationType.JOURNAL_ARTICLE,
    "CONF": PublicationType.CONFERENCE_ABSTRACT,
    "CPAPER": PublicationType.CONFERENCE_ABSTRACT,
    "ABST": PublicationType.CONFERENCE_ABSTRACT,
    "CHAP": PublicationType.BOOK_CHAPTER,
    "ECHAP": PublicationType.BOOK_CHAPTER,
    "UNPB": PublicationType.PREPRINT,
}

# Citation fields a parser fills, besides publication_type and authors.
TEXT_FIELDS = (
    "citekey",
    "title",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "abstract",
)

DASH = re.compile(r"\s*(?:-+|\u2013|\u2014)\s*")
YEAR = re.compile(r"\s*(\d{4})(?!\d)")
BOM = "\ufeff"


class FormatError(ValueError):
    """Input that is not the expected format, or an entry HER2db cannot take."""


class ParsedCitation(TypedDict):
    """One entry read by a parser: Citation field names plus the author list."""

    citekey: str
    title: str
    journal: str
    year: int | None
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    pmcid: str
    url: str
    abstract: str
    publication_type: str
    authors: list[tuple[str, str]]  # (family, given); given is "" for a group


# CSL-JSON


def as_csl(citation: Citation) -> dict[str, Any]:
    """The citation as a CSL-JSON item, leaving out empty variables."""
    item = {
        "id": citation.citekey,
        "type": CSL_TYPES[citation.publication_type],
        "title": citation.title,
        "author": [_csl_name(author) for author in citation.ordered_authors()],
        "container-title": citation.journal,
        "issued": {"date-parts": [[citation.year]]} if citation.year else None,
        "volume": citation.volume,
        "issue": citation.issue,
        "page": citation.pages,
        "DOI": citation.doi,
        "PMID": citation.pmid,
        "PMCID": citation.pmcid,
        "URL": citation.url,
        "abstract": citation.abstract,
    }
    return {key: value for key, value in item.items() if value}


def _csl_name(author: Author) -> dict[str, str]:
    """A CSL name: a literal for a group, family and given for a person."""
    if author.is_collective:
        return {"literal": author.family_name}
    name = {"family": author.family_name, "given": author.given_name}
    return {key: value for key, value in name.items() if value}


def to_csl_json(citations: Iterable[Citation]) -> str:
    """A CSL-JSON document (a list of items), UTF-8 text rather than escapes."""
    items = [as_csl(citation) for citation in citations]
    return json.dumps(items, ensure_ascii=False, indent=2)


def parse_csl_json(text: str) -> list[ParsedCitation]:
    """Read CSL-JSON: a list of items, or one item as doi.org returns it."""
    try:
        data = json.loads(text.lstrip(BOM))
    except json.JSONDecodeError as error:
        raise FormatError(f"Not CSL-JSON: {error}.") from error
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FormatError("CSL-JSON must be a list of items.")
    return [_from_csl(item, number) for number, item in enumerate(data, 1)]


def _from_csl(item: Any, number: int) -> ParsedCitation:
    label = f"CSL-JSON item {number}"
    if not isinstance(item, dict):
        raise FormatError(f"{label} is not an object.")
    if isinstance(item.get("id"), str | int):
        label += f' "{item["id"]}"'

    def text(key: str) -> str:
        value = item.get(key, "")
        # The schema allows numbers for volume, issue, page and identifiers.
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        raise FormatError(f"{label}: {key} must be text, not {value!r}.")

    csl_type = item.get("type")
    if not isinstance(csl_type, str):
        raise FormatError(f"{label} has no type.")
    authors = item.get("author", [])
    if not isinstance(authors, list):
        raise FormatError(f"{label}: author must be a list of names.")
    return _finish(
        label,
        citekey=text("id"),
        title=text("title"),
        journal=text("container-title"),
        year=_csl_year(label, item.get("issued")),
        volume=text("volume"),
        issue=text("issue"),
        pages=text("page"),
        doi=text("DOI"),
        pmid=text("PMID"),
        pmcid=text("PMCID"),
        url=text("URL"),
        abstract=text("abstract"),
        publication_type=CSL_IMPORT_TYPES.get(csl_type, PublicationType.OTHER),
        authors=[
            _csl_person(label, position, name)
            for position, name in enumerate(authors, 1)
        ],
    )


def _csl_year(label: str, issued: Any) -> str | int | None:
    if issued is None or isinstance(issued, str):
        return issued
    if not isinstance(issued, dict):
        raise FormatError(f"{label}: issued must be a date object.")
    try:
        return issued["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return issued.get("raw") or issued.get("literal")


CSL_NAME_PARTS = (
    "literal",
    "non-dropping-particle",
    "family",
    "given",
    "dropping-particle",
    "suffix",
)


def _csl_person(label: str, position: int, name: Any) -> tuple[str, str]:
    if not isinstance(name, dict):
        raise FormatError(f"{label}: author {position} is not a CSL name object.")
    parts = {key: name.get(key) or "" for key in CSL_NAME_PARTS}
    if not all(isinstance(part, str) for part in parts.values()):
        raise FormatError(
            f"{label}: author {position} has a name part that is not text."
        )
    if parts["literal"]:
        return _join([parts["literal"]]), ""
    family = [parts["non-dropping-particle"], parts["family"]]
    given = [parts["given"], parts["dropping-particle"], parts["suffix"]]
    return _join(family), _join(given)


# BibTeX


def to_bibtex(citations: Iterable[Citation]) -> str:
    """A BibTeX file, UTF-8, keyed by citekey."""
    library = bibtexparser.Library()
    library.add([_bibtex_entry(citation) for citation in citations])
    return bibtexparser.write_string(library)


def _bibtex_entry(citation: Citation) -> Entry:
    entry_type = BIBTEX_TYPES[citation.publication_type]
    in_a_book = entry_type in ("inproceedings", "incollection")
    container = "booktitle" if in_a_book else "journal"
    values = {
        "author": " and ".join(
            _bibtex_name(author) for author in citation.ordered_authors()
        ),
        # The extra braces stop styles from lower-casing "HER2" and friends.
        "title": "{" + _latex_escape(citation.title) + "}",
        container: _latex_escape(citation.journal),
        "year": str(citation.year or ""),
        "volume": _latex_escape(citation.volume),
        "number": _latex_escape(citation.issue),
        "pages": DASH.sub("--", _latex_escape(citation.pages)),
        # Identifiers are read verbatim by biblatex, so they stay unescaped.
        "doi": citation.doi,
        "pmid": citation.pmid,
        "pmcid": citation.pmcid,
        "url": citation.url,
        "abstract": _latex_escape(citation.abstract),
    }
    fields = [Field(key, value) for key, value in values.items() if value]
    return Entry(entry_type, citation.citekey, fields)


def _bibtex_name(author: Author) -> str:
    family = _latex_escape(author.family_name)
    if author.is_collective or not author.given_name:
        # Braces keep "HERA Study Group" one family name, not given + family.
        return "{" + family + "}"
    return f"{family}, {_latex_escape(author.given_name)}"


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
}
LATEX_SPECIAL = re.compile("|".join(re.escape(char) for char in LATEX_SPECIALS))


def _latex_escape(value: str) -> str:
    # Non-ASCII stays as UTF-8, which biber and bibtexparser read; only the
    # characters that would break a LaTeX run are escaped. "^" is left alone
    # because pylatexenc decodes every escape for it to a different character.
    return LATEX_SPECIAL.sub(lambda match: LATEX_SPECIALS[match.group()], value)


LATEX = LatexNodes2Text()
UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
ESCAPED_CHARACTER = re.compile(r"\\([_%&#$])")


def _latex_text(value: str) -> str:
    # A bare % would start a LaTeX comment and swallow the rest of the line,
    # but in a BibTeX field it is just a percent sign.
    return _join([LATEX.latex_to_text(UNESCAPED_PERCENT.sub(r"\\%", value))])


def parse_bibtex(text: str) -> list[ParsedCitation]:
    """Read a BibTeX file; LaTeX accents and escapes become plain text."""
    library = bibtexparser.parse_string(
        text.lstrip(BOM),
        append_middleware=[NormalizeFieldKeys(), SeparateCoAuthors(), SplitNameParts()],
    )
    if library.failed_blocks:
        block = library.failed_blocks[0]
        raise FormatError(f"{_failed_label(block)} {_failure(block)}")
    if not library.entries:
        raise FormatError(
            "No BibTeX entries found (an entry looks like @article{key, ...})."
        )
    return [
        _from_bibtex(entry, number) for number, entry in enumerate(library.entries, 1)
    ]


def _failed_label(block: ParsingFailedBlock) -> str:
    line = f"(line {block.start_line + 1})"
    key = getattr(block, "key", None) or getattr(block.ignore_error_block, "key", "")
    if not key:
        found = re.match(r"\s*@\s*\w+\s*[{(]\s*([^,\s]+)\s*,", block.raw or "")
        key = found.group(1) if found else ""
    return f'BibTeX entry "{key}" {line}' if key else f"BibTeX entry {line}"


def _failure(block: ParsingFailedBlock) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return "uses a key that an earlier entry already has."
    if isinstance(block, DuplicateFieldKeyBlock):
        return f"has the field {', '.join(sorted(block.duplicate_keys))} twice."
    if isinstance(block, MiddlewareErrorBlock):
        return f"cannot be read: {block.error}."
    return "cannot be read: check for an unbalanced brace or quote or a missing comma."


def _from_bibtex(entry: Entry, number: int) -> ParsedCitation:
    label = f'BibTeX entry "{entry.key}"' if entry.key else f"BibTeX entry {number}"
    fields = {field.key: field.value for field in entry.fields}

    def text(*keys: str) -> str:
        return next((_latex_text(fields[key]) for key in keys if key in fields), "")

    def verbatim(key: str) -> str:
        return ESCAPED_CHARACTER.sub(r"\1", fields.get(key, ""))

    return _finish(
        label,
        citekey=entry.key,
        title=text("title"),
        journal=text("journal", "journaltitle", "booktitle"),
        year=fields.get("year") or fields.get("date"),
        volume=verbatim("volume"),
        issue=verbatim("number") or verbatim("issue"),
        pages=verbatim("pages"),
        doi=verbatim("doi"),
        pmid=verbatim("pmid"),
        pmcid=verbatim("pmcid"),
        url=verbatim("url"),
        abstract=text("abstract"),
        publication_type=BIBTEX_IMPORT_TYPES.get(
            entry.entry_type, PublicationType.OTHER
        ),
        authors=[_bibtex_person(name) for name in fields.get("author", [])],
    )


def _bibtex_person(name: NameParts) -> tuple[str, str]:
    family = _latex_text(_join(name.von + name.last))
    # "Jr." goes after the given names, as in PubMed's full author names.
    given = _latex_text(_join(name.first + name.jr))
    return family, given


# RIS


class _RisWriter(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        # rispy numbers records with a "1." line, which is not RIS.
        return ""


# rispy splits UR on ";" by default, which cuts URLs that contain one.
RIS_OPTIONS = {"delimiter_tags_mapping": {}}


def to_ris(citations: Iterable[Citation]) -> str:
    """An RIS file; PMID in AN (with DB PubMed), PMCID in C2, citekey in ID."""
    records = [_ris_record(citation) for citation in citations]
    return rispy.dumps(records, implementation=_RisWriter, **RIS_OPTIONS)


def _ris_record(citation: Citation) -> dict[str, Any]:
    start_page, _, end_page = DASH.sub("-", citation.pages).partition("-")
    record = {
        "type_of_reference": RIS_TYPES[citation.publication_type],
        "id": citation.citekey,
        "authors": [_ris_name(author) for author in citation.ordered_authors()],
        "title": citation.title,
        "secondary_title": citation.journal,
        "year": str(citation.year or ""),
        "volume": citation.volume,
        "number": citation.issue,
        "start_page": start_page,
        "end_page": end_page,
        "doi": citation.doi,
        "accession_number": citation.pmid,
        "name_of_database": "PubMed" if citation.pmid else "",
        "custom2": citation.pmcid,
        "urls": [citation.url] if citation.url else [],
        "abstract": citation.abstract,
    }
    # A line break inside a value would end the tag, or start a forged one.
    return {
        key: _join([value]) if isinstance(value, str) else value
        for key, value in record.items()
        if value
    }


def _ris_name(author: Author) -> str:
    # RIS cannot mark a group, so a group name with a comma in it reads back
    # as family name, given name.
    if author.is_collective or not author.given_name:
        return author.family_name
    return f"{author.family_name}, {author.given_name}"


def parse_ris(text: str) -> list[ParsedCitation]:
    """Read an RIS file (records from TY to ER)."""
    text = text.lstrip(BOM).replace("\r\n", "\n").replace("\r", "\n")
    expected = _count_ris_records(text)
    records = rispy.loads(text, **RIS_OPTIONS)
    if len(records) != expected:
        raise FormatError(f"Read {len(records)} of {expected} RIS records.")
    return [_from_ris(record, number) for number, record in enumerate(records, 1)]


def _count_ris_records(text: str) -> int:
    # rispy silently drops a record with no ER and merges two records when
    # the ER between them is missing, so the structure is checked first.
    count, opened_on = 0, None
    for line_number, line in enumerate(text.split("\n"), 1):
        tag = line[:2] if line[2:5] == "  -" else None
        if tag == "TY":
            if opened_on:
                raise FormatError(
                    f"RIS record {count} (line {opened_on}) has no ER line before "
                    f"the next TY on line {line_number}."
                )
            count, opened_on = count + 1, line_number
        elif tag == "ER":
            if not opened_on:
                raise FormatError(f"RIS line {line_number}: ER outside a record.")
            opened_on = None
    if opened_on:
        raise FormatError(f"RIS record {count} (line {opened_on}) has no ER line.")
    if not count:
        raise FormatError("No RIS records found (a record starts with a TY line).")
    return count


def _from_ris(record: dict[str, Any], number: int) -> ParsedCitation:
    citekey = record.get("id", "")
    label = f'RIS record {number} "{citekey}"' if citekey else f"RIS record {number}"

    def first(*keys: str) -> str:
        return next((record[key] for key in keys if record.get(key)), "")

    start_page, end_page = first("start_page"), first("end_page")
    accession, database = first("accession_number"), first("name_of_database")
    is_pmid = accession.isdigit() and (
        not database or re.search("pubmed|medline", database, re.IGNORECASE)
    )
    custom2 = first("custom2")
    return _finish(
        label,
        citekey=citekey,
        title=first("title", "primary_title"),
        journal=first(
            "secondary_title",
            "alternate_title3",  # JF
            "journal_name",  # JO
            "alternate_title2",  # JA
            "alternate_title1",  # J2
        ),
        year=first("year", "publication_year", "date"),
        volume=first("volume"),
        issue=first("number"),
        pages=f"{start_page}-{end_page}" if start_page and end_page else start_page,
        doi=first("doi"),
        pmid=accession if is_pmid else "",
        pmcid=custom2 if custom2.upper().startswith("PMC") else "",
        url=next(iter(record.get("urls", [])), ""),
        abstract=first("abstract", "notes_abstract"),
        publication_type=RIS_IMPORT_TYPES.get(
            record.get("type_of_reference", ""), PublicationType.OTHER
        ),
        authors=[
            _ris_person(name)
            for name in record.get("authors") or record.get("first_authors", [])
        ],
    )


def _ris_person(name: str) -> tuple[str, str]:
    family, _, given = name.partition(",")
    return _join([family]), _join([given])


# Shared by the parsers


def _join(parts: list[str | None]) -> str:
    """Join the non-empty parts with single spaces, collapsing whitespace."""
    return " ".join(" ".join(part for part in parts if part).split())


def _finish(label: str, **values: Any) -> ParsedCitation:
    """Normalise one parsed entry and check it against the model's validators."""
    record = {name: values[name].strip() for name in TEXT_FIELDS}
    record["title"] = _join([record["title"]])
    record["journal"] = _join([record["journal"]])
    record["doi"] = normalise_doi(record["doi"]).strip()
    record["pmcid"] = record["pmcid"].upper()
    record["pages"] = DASH.sub("-", record["pages"])
    if not _is_valid(Citation, "citekey", record["citekey"]):
        # Keys such as "2020smith" or CSL's numeric ids cannot be HER2db
        # citekeys; the importer makes one up instead.
        record["citekey"] = ""
    if not record["title"]:
        raise FormatError(f"{label} has no title.")
    record["year"] = _year(label, values["year"])
    for name, value in record.items():
        _check(label, Citation, name, value)
    authors = values["authors"]
    for position, (family, given) in enumerate(authors, 1):
        if not family:
            raise FormatError(f"{label}: author {position} has no family name.")
        _check(f"{label}: author {position}", Author, "family_name", family)
        _check(f"{label}: author {position}", Author, "given_name", given)
    return ParsedCitation(
        **record,
        publication_type=str(values["publication_type"]),
        authors=authors,
    )


def _year(label: str, value: str | int | None) -> int | None:
    """The leading four-digit year of "2019", "2019-05-01" or "2019/05/01/"."""
    if value in (None, ""):
        return None
    found = YEAR.match(str(value))
    if not found:
        raise FormatError(f"{label}: {value!r} is not a year.")
    return int(found.group(1))


def _is_valid(model: type, name: str, value: Any) -> bool:
    try:
        model._meta.get_field(name).clean(value, None)
    except ValidationError:
        return False
    return True


def _check(label: str, model: type, name: str, value: Any) -> None:
    """Run the model field's own validators, so the rules live in one place."""
    if value in ("", None):
        return
    field = model._meta.get_field(name)
    try:
        field.clean(value, None)
    except ValidationError as error:
        raise FormatError(
            f"{label}: {field.verbose_name} {value!r}: {' '.join(error.messages)}"
        ) from error
