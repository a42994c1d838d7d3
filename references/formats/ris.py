"""RIS, written and read with rispy.

RIS has no tag for PubMed identifiers. We follow EndNote, whose PubMed
records put the PMID in the accession number (AN, with DB "PubMed") and the
PMCID in Custom 2 (C2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import rispy

from references.identifiers import normalise_pmcid
from references.publication_types import FORMAT_TYPES, PublicationType

from .common import BOM, DASH, FormatError, ParsedCitation, _finish, _join

if TYPE_CHECKING:
    from references.models import Author, Citation

RIS_TYPES = {kind: ris for kind, (_, _, ris) in FORMAT_TYPES.items()}


# Types read on import; anything else becomes OTHER.
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
        "authors": [_ris_name(author) for author in citation.ordered_authors()]
        + ([ET_AL] if citation.authors_truncated else []),
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


# RIS has no mark for a shortened list either; reference managers write (and
# read) a last author "et al.", which is what we write.
ET_AL = "et al."
ET_AL_NAMES = {"et al.", "et al", "others"}


def _ris_name(author: Author) -> str:
    # RIS cannot mark a group, so a group name with a comma in it reads back
    # as family name, given name. A suffix follows the given name
    # ("Lastname, Firstname, Suffix", as the RIS specification writes it).
    if author.is_collective or not author.given_name:
        return author.family_name
    return ", ".join(
        part for part in (author.family_name, author.given_name, author.suffix) if part
    )


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
    names = record.get("authors") or record.get("first_authors", [])
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
        pmcid=custom2 if normalise_pmcid(custom2).startswith("PMC") else "",
        url=next(iter(record.get("urls", [])), ""),
        abstract=first("abstract", "notes_abstract"),
        publication_type=RIS_IMPORT_TYPES.get(
            record.get("type_of_reference", ""), PublicationType.OTHER
        ),
        authors=[_ris_person(name) for name in names if not _is_et_al(name)],
        authors_truncated=bool(names) and _is_et_al(names[-1]),
    )


def _is_et_al(name: str) -> bool:
    return name.strip().lower() in ET_AL_NAMES


def _ris_person(name: str) -> tuple[str, str]:
    family, _, given = name.partition(",")
    return _join([family]), _join([given])
