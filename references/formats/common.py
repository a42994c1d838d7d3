"""What the three formats' parsers share: the parsed entry, its checks."""

import re
from typing import Any, NotRequired, TypedDict

from django.apps import apps
from django.core.exceptions import ValidationError

from references.identifiers import normalise_identifiers

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
    # Only when the list ended with "et al." / "and others" (then True).
    authors_truncated: NotRequired[bool]


def _join(parts: list[str | None]) -> str:
    """Join the non-empty parts with single spaces, collapsing whitespace."""
    return " ".join(" ".join(part for part in parts if part).split())


def _finish(label: str, **values: Any) -> ParsedCitation:
    """Normalise one parsed entry and check it against the model's validators."""
    record = {name: values[name].strip() for name in TEXT_FIELDS}
    record["title"] = _join([record["title"]])
    record["journal"] = _join([record["journal"]])
    record = normalise_identifiers(record)
    record["pages"] = DASH.sub("-", record["pages"])
    if not _is_valid("citation", "citekey", record["citekey"]):
        # Keys such as "2020smith" or CSL's numeric ids cannot be HER2db
        # citekeys; the importer makes one up instead.
        record["citekey"] = ""
    if not record["title"]:
        raise FormatError(f"{label} has no title.")
    record["year"] = _year(label, values["year"])
    for name, value in record.items():
        _check(label, "citation", name, value)
    authors = values["authors"]
    for position, (family, given) in enumerate(authors, 1):
        if not family:
            raise FormatError(f"{label}: author {position} has no family name.")
        _check(f"{label}: author {position}", "author", "family_name", family)
        _check(f"{label}: author {position}", "author", "given_name", given)
    parsed = ParsedCitation(
        **record,
        publication_type=str(values["publication_type"]),
        authors=authors,
    )
    if values.get("authors_truncated"):
        parsed["authors_truncated"] = True
    return parsed


def _year(label: str, value: str | int | None) -> int | None:
    """The leading four-digit year of "2019", "2019-05-01" or "2019/05/01/"."""
    if value in (None, ""):
        return None
    found = YEAR.match(str(value))
    if not found:
        raise FormatError(f"{label}: {value!r} is not a year.")
    return int(found.group(1))


def _field(model: str, name: str):
    # Through the app registry: the models use this package (Citation.as_csl).
    return apps.get_model("references", model)._meta.get_field(name)


def _is_valid(model: str, name: str, value: Any) -> bool:
    try:
        _field(model, name).clean(value, None)
    except ValidationError:
        return False
    return True


def _check(label: str, model: str, name: str, value: Any) -> None:
    """Run the model field's own validators, so the rules live in one place."""
    if value in ("", None):
        return
    field = _field(model, name)
    try:
        field.clean(value, None)
    except ValidationError as error:
        raise FormatError(
            f"{label}: {field.verbose_name} {value!r}: {' '.join(error.messages)}"
        ) from error
