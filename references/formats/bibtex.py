"""BibTeX, written and read with bibtexparser 2."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import bibtexparser
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

# pylatexenc comes with bibtexparser 2, whose own LaTeX decoding uses it.
from pylatexenc.latex2text import LatexNodes2Text

from references.publication_types import FORMAT_TYPES, PublicationType

from .common import BOM, DASH, FormatError, ParsedCitation, _finish, _join

if TYPE_CHECKING:
    from references.models import Author, Citation

BIBTEX_TYPES = {kind: bibtex for kind, (_, bibtex, _) in FORMAT_TYPES.items()}

# Types read on import; anything else becomes OTHER.
BIBTEX_IMPORT_TYPES = {
    "article": PublicationType.JOURNAL_ARTICLE,
    "inproceedings": PublicationType.CONFERENCE_ABSTRACT,
    "conference": PublicationType.CONFERENCE_ABSTRACT,
    "incollection": PublicationType.BOOK_CHAPTER,
    "inbook": PublicationType.BOOK_CHAPTER,
    "unpublished": PublicationType.PREPRINT,
}


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
            [_bibtex_name(author) for author in citation.ordered_authors()]
            + (["others"] if citation.authors_truncated else [])
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
    given = _latex_escape(author.given_name)
    if author.suffix:
        # BibTeX's "von Last, Jr, First".
        return f"{family}, {_latex_escape(author.suffix)}, {given}"
    return f"{family}, {given}"


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

    names = fields.get("author", [])

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
        authors=[_bibtex_person(name) for name in names if not _is_others(name)],
        authors_truncated=bool(names) and _is_others(names[-1]),
    )


def _is_others(name: NameParts) -> bool:
    """BibTeX's "and others": the list is shortened."""
    return not (name.first or name.von or name.jr) and name.last == ["others"]


def _bibtex_person(name: NameParts) -> tuple[str, str]:
    family = _latex_text(_join(name.von + name.last))
    # "Jr." goes after the given names, as in PubMed's full author names.
    given = _latex_text(_join(name.first + name.jr))
    return family, given
