"""CSL-JSON: the API's and the releases' citation items, and their import."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from references.publication_types import FORMAT_TYPES, PublicationType

from .common import BOM, FormatError, ParsedCitation, _finish, _join

if TYPE_CHECKING:
    from references.models import Author, Citation

CSL_TYPES = {kind: csl for kind, (csl, _, _) in FORMAT_TYPES.items()}

# Types read on import; anything else becomes OTHER.
CSL_IMPORT_TYPES = {
    "article-journal": PublicationType.JOURNAL_ARTICLE,
    "paper-conference": PublicationType.CONFERENCE_ABSTRACT,
    "chapter": PublicationType.BOOK_CHAPTER,
    "article": PublicationType.PREPRINT,
}


def as_csl(citation: Citation) -> dict[str, Any]:
    """The citation as a CSL-JSON item, leaving out empty variables."""
    item = {
        "id": citation.citekey,
        "type": CSL_TYPES[citation.publication_type],
        "title": citation.title,
        "author": [_csl_name(author) for author in citation.ordered_authors()]
        + ([ET_AL] if citation.authors_truncated else []),
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


# CSL-JSON has no mark for a shortened list. We follow pandoc and citeproc
# (jgm/citeproc), which read a last name {"literal": "others"}, as BibTeX's
# "and others" becomes, as "et al.".
ET_AL = {"literal": "others"}
ET_AL_NAMES = {"others", "et al.", "et al"}


def _csl_name(author: Author) -> dict[str, str]:
    """A CSL name: a literal for a group; family, given, suffix for a person."""
    if author.is_collective:
        return {"literal": author.family_name}
    name = {
        "family": author.family_name,
        "given": author.given_name,
        "suffix": author.suffix,
    }
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
    truncated = bool(authors) and _is_et_al(authors[-1])
    if truncated:
        authors = authors[:-1]
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
        authors_truncated=truncated,
    )


def _is_et_al(name: Any) -> bool:
    return (
        isinstance(name, dict)
        and set(name) == {"literal"}
        and str(name["literal"]).strip().lower() in ET_AL_NAMES
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
