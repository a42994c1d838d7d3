"""What the curated data still lacks: every empty field a record of its kind
should have (check_data --coverage), per model, with counts and the keys of
the records. fixtures/README.md quotes the report between its markers, and a
test fails when the two disagree.
"""

import textwrap
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from references.models import Author, Citation
from therapies.models import (
    Agent,
    Approval,
    EvidenceCitation,
    Outcome,
    Target,
    Trial,
)

README_START = "<!-- check_data --coverage: start -->"
README_END = "<!-- check_data --coverage: end -->"


def empty(name: str) -> Q:
    return Q(**{name: ""})


def null(name: str) -> Q:
    return Q(**{f"{name}__isnull": True})


def none_of(model, to: str, **lookups) -> Exists:
    """No row of `model` points at the record through `to`."""
    return ~Exists(model.objects.filter(**{to: OuterRef("pk")}, **lookups))


@dataclass(frozen=True)
class Expected:
    """A value records of a kind should have: what, where it is empty, for whom."""

    what: str
    lacking: Q
    applies: Q = field(default_factory=Q)


@dataclass(frozen=True)
class Kind:
    label: str
    model: type
    key: tuple[str, ...]
    expected: tuple[Expected, ...]
    records: Q = field(default_factory=Q)


ADC = Q(modality=Agent.Modality.ANTIBODY_DRUG_CONJUGATE)
APPROVED = Q(development_status=Agent.Status.APPROVED)

KINDS = (
    Kind(
        "citations",
        Citation,
        ("citekey",),
        (
            Expected("PMID", empty("pmid")),
            Expected("DOI", empty("doi")),
            Expected("PMCID", empty("pmcid")),
            Expected("journal", empty("journal")),
            Expected("year", null("year")),
            Expected("volume", empty("volume")),
            Expected("issue", empty("issue")),
            Expected("pages", empty("pages")),
            Expected("authors", none_of(Citation.authors.through, "citation")),
        ),
    ),
    Kind(
        "authors (people)",
        Author,
        ("family_name", "given_name"),
        (Expected("given name", empty("given_name")),),
        records=Q(is_collective=False),
    ),
    Kind(
        "targets",
        Target,
        ("symbol",),
        (
            Expected("HGNC id", empty("hgnc_id")),
            Expected("UniProt accession", empty("uniprot_id")),
        ),
    ),
    Kind(
        "agents",
        Agent,
        ("slug",),
        (
            Expected("ChEMBL id", empty("chembl_id")),
            Expected("DrugBank id", empty("drugbank_id")),
            Expected("NCIt code", empty("ncit_id")),
            Expected("mechanism of action", empty("mechanism_of_action")),
            Expected("payload (ADCs)", empty("payload"), ADC),
            Expected("linker (ADCs)", empty("linker"), ADC),
            Expected(
                "drug-to-antibody ratio (ADCs)", null("drug_to_antibody_ratio"), ADC
            ),
            Expected(
                "approval (approved agents)", none_of(Approval, "agent"), APPROVED
            ),
        ),
    ),
    Kind(
        "approvals of a HER2-positive breast cancer indication",
        Approval,
        ("agent__slug", "agency", "date"),
        (
            Expected(
                "label or trial cited", Q(citation__isnull=True, trial__isnull=True)
            ),
        ),
        records=Q(her2_positive_breast=True),
    ),
    Kind(
        "trials",
        Trial,
        ("nct_id",),
        (
            Expected("acronym", empty("acronym")),
            Expected("phase", empty("phase")),
            Expected("status", empty("status")),
            Expected("setting", empty("setting")),
            Expected("population", empty("population")),
            Expected("sponsor", empty("sponsor")),
            Expected("enrollment", null("enrollment")),
            Expected("start date", empty("start_date")),
            Expected("completion date", empty("completion_date")),
            Expected("primary endpoint", empty("primary_endpoint")),
            Expected("publications", none_of(Trial.publications.through, "trial")),
            Expected("outcomes", none_of(Outcome, "trial")),
        ),
    ),
    Kind(
        "evidence citations",
        EvidenceCitation,
        ("evidence__uid", "citation__citekey"),
        (
            Expected("quote", empty("quote")),
            Expected("location", empty("location")),
        ),
    ),
    Kind(
        "outcomes",
        Outcome,
        ("uid",),
        (
            Expected("citation", null("citation")),
            Expected("locator", empty("locator")),
            Expected("data cut-off", null("data_cutoff")),
        ),
    ),
)


def key_text(values: tuple) -> str:
    return " ".join(str(value) for value in values if value not in ("", None))


def coverage_lines() -> list[str]:
    """One line per kind (its count), then one per expected value that some
    records lack: how many, and which."""
    lines = []
    for kind in KINDS:
        records = kind.model._default_manager.filter(kind.records)
        lines.append(f"{kind.label}: {records.count()}")
        for expected in kind.expected:
            rows = records.filter(expected.applies).filter(expected.lacking)
            keys = [
                key_text(row) for row in rows.order_by(*kind.key).values_list(*kind.key)
            ]
            if keys:
                lines.append(
                    textwrap.fill(
                        f"- {expected.what}: {len(keys)} without: {', '.join(keys)}",
                        width=88,
                        subsequent_indent="  ",
                        break_on_hyphens=False,
                    )
                )
    return lines


def coverage_report() -> str:
    return "\n".join(coverage_lines())
