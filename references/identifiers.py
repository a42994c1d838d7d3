"""Citation identifiers: their formats and their stored form.

The one place that says how a PMID, DOI or PMCID is written down, so the
model, the API, the filters, the importers, the bibliographic formats and
the fixture build all agree. It imports no model (``references.models`` and
``references.formats`` both use it).
"""

from typing import Any

from django.core.validators import RegexValidator

PMID_RE = r"^[1-9][0-9]{0,8}$"
DOI_RE = r"^10\.[0-9]{4,9}/\S+$"
PMCID_RE = r"^PMC[0-9]{1,9}$"

validate_pmid = RegexValidator(
    PMID_RE, "A PMID is a positive number of up to 9 digits."
)
validate_doi = RegexValidator(
    DOI_RE, 'A DOI looks like "10.1056/nejmoa1113216", with no resolver prefix.'
)
validate_pmcid = RegexValidator(PMCID_RE, 'A PMCID looks like "PMC5705202".')

DOI_RESOLVER = "https://doi.org/"
DOI_PREFIXES = (DOI_RESOLVER, "http://doi.org/", "https://dx.doi.org/", "doi:")


def normalise_doi(value: str | None) -> str:
    """Lower-case a DOI and strip any resolver prefix (DOIs are case-insensitive)."""
    value = (value or "").strip()
    for prefix in DOI_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix) :].strip()
    return value.lower()


def normalise_pmcid(value: str | None) -> str:
    """ "pmc5705202 " -> "PMC5705202"."""
    return (value or "").strip().upper()


def normalise_pmid(value: str | int | None) -> str:
    """A PMID as text (sources give numbers too), without spaces."""
    return str(value or "").strip()


NORMALISERS = {"pmid": normalise_pmid, "doi": normalise_doi, "pmcid": normalise_pmcid}


def normalise_identifiers(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each identifier it holds in its stored form."""
    return {
        name: NORMALISERS[name](value) if name in NORMALISERS else value
        for name, value in values.items()
    }
