"""Citation records matched to the database and written, a chunk at a time.

The PubMed and bibliographic-file importers turn their records into
``CitationRecord``s and hand them to a ``CitationWriter``. New rows go in
with ``bulk_create`` and simple-history's bulk helpers (through the run's
``ImportContext``), after the models' own normalisation and field
validation; changed citations are saved one by one.

This module knows nothing of ``therapies``: links from citations to trials
go through ``apps.get_model`` and are skipped when that app is absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q

from references.identifiers import normalise_identifiers
from references.models import Author, Citation, CitationAuthor

from .base import (
    CREATED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    ImportContext,
    RecordError,
    apply_values,
    describe_error,
    validate,
)
from .citekeys import CitekeyAllocator, citekey_base


@dataclass
class Skipped:
    """A record the source holds that the importer leaves out, and why."""

    label: str
    reason: str


@dataclass
class CitationRecord:
    """One citation as a source gives it, ready to match and write."""

    label: str  # how the summary names it, e.g. "PMID 22149875"
    values: dict[str, Any]  # Citation field values; blank means "not given"
    # (family, given, is_collective) or (family, given, is_collective, suffix)
    authors: list[tuple]
    citekey: str = ""  # the key the source asks for (BibTeX, RIS ID)
    nct_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    where: str = ""  # where errors point, e.g. "record 3 (PMID 22149875)"


CITATION_FIELDS = [
    *Citation.BIBLIOGRAPHIC_FIELDS,
    "abstract",
    "publication_type",
    "url",
]
NCT_RE = re.compile(r"^NCT[0-9]{8}$")
SPACED_FIELDS = {"title", "abstract"}


def _words(text: str | None) -> list[str]:
    return (text or "").split()


class CitationWriter:
    """Matches citation records to the database and writes the differences.

    Works a chunk at a time: a few queries find every citation, author and
    trial the chunk mentions, new rows go in with bulk inserts (history
    included), and only citations that changed are saved one by one.
    Existing citations are matched by PMID, then DOI, then the requested
    citekey (when the identifiers agree).
    """

    def __init__(self, ctx: ImportContext, source: str, same_type=None):
        self.ctx = ctx
        self.source = source
        # same_type(stored, read) -> True when the source cannot tell the two
        # publication types apart (BibTeX has no "review"): keep the stored one.
        self.same_type = same_type
        self.keys = CitekeyAllocator()
        self.trial_model = (
            apps.get_model("therapies", "Trial")
            if apps.is_installed("therapies")
            else None
        )
        # (family, given) -> Author id, for the chunk being written.
        self.authors: dict[tuple[str, str], int] = {}

    def error(self, record: CitationRecord, message: str) -> RecordError:
        return RecordError(
            message, source=self.source, record=record.where or record.label
        )

    def write(self, records: list[CitationRecord]) -> None:
        """Match and write one chunk of records."""
        seen: dict[str, str] = {}
        records = [r for r in records if self._first_time(r, seen)]
        if not records:
            return
        existing = self._existing(records)
        plans = [self._plan(r, existing) for r in records]
        earlier = self.ctx.written.among(p.citation.pk for p in plans)
        plans = [p for p in plans if not self._seen_before(p, earlier)]
        self._write_authors(plans)
        self._write_citations(plans)
        self._link_trials(plans)
        self.ctx.written.add(plan.citation.pk for plan in plans)
        for plan in plans:
            self.ctx.summary.add(
                plan.status, plan.label, plan.changes, notes=plan.record.notes
            )

    # Matching --------------------------------------------------------------

    def _first_time(self, record: CitationRecord, seen: dict[str, str]) -> bool:
        """False (and skipped) when another record of the chunk has its ids."""
        idents = [
            f"{name}:{record.values[name]}"
            for name in ("pmid", "doi", "pmcid")
            if record.values.get(name)
        ]
        for ident in idents:
            if ident in seen:
                name, value = ident.split(":", 1)
                self.ctx.summary.add(
                    SKIPPED,
                    record.label,
                    reason=f"same {name.upper()} {value} as {seen[ident]} earlier "
                    "in this import",
                )
                return False
        for ident in idents:
            seen[ident] = record.label
        return True

    def _seen_before(self, plan: _Plan, earlier: set[int]) -> bool:
        """True (and skipped) when an earlier chunk brought in the same paper."""
        if plan.citation.pk not in earlier:
            return False
        plan.citation.refresh_from_db()  # undo the values _plan applied
        self.ctx.summary.add(
            SKIPPED,
            plan.record.label,
            reason=f"the same paper as {plan.citation.citekey}, which an earlier "
            "record of this import brought in",
        )
        return True

    def _existing(self, records: list[CitationRecord]) -> dict[str, dict]:
        wanted = {name: set() for name in ("pmid", "doi", "pmcid", "citekey")}
        for record in records:
            for name in ("pmid", "doi", "pmcid"):
                if record.values.get(name):
                    wanted[name].add(record.values[name])
            if record.citekey:
                wanted["citekey"].add(record.citekey)
        query = Q(pk__in=[])
        for name, values in wanted.items():
            if values:
                query |= Q(**{f"{name}__in": values})
        found = {name: {} for name in wanted}
        for citation in Citation.objects.filter(query):
            for name in found:
                value = getattr(citation, name)
                if value:
                    found[name][value] = citation
        return found

    def _plan(self, record: CitationRecord, existing: dict) -> _Plan:
        values = record.values
        by_pmid = existing["pmid"].get(values.get("pmid") or None)
        by_doi = existing["doi"].get(values.get("doi") or None)
        if by_pmid and by_doi and by_pmid != by_doi:
            raise self.error(
                record,
                f"PMID {values['pmid']} is {by_pmid.citekey} in HER2db but DOI "
                f"{values['doi']} is {by_doi.citekey}.",
            )
        citation = by_pmid or by_doi
        if citation is None and record.citekey:
            candidate = existing["citekey"].get(record.citekey)
            if candidate and self._same_paper(candidate, values):
                citation = candidate
        for name in ("pmid", "doi", "pmcid"):
            other = existing[name].get(values.get(name) or None)
            if other is not None and other != citation:
                raise self.error(
                    record,
                    f"{name.upper()} {values[name]} already belongs to "
                    f"{other.citekey}, which this record does not match.",
                )
            if (
                citation
                and values.get(name)
                and getattr(citation, name)
                not in (
                    "",
                    values[name],
                )
            ):
                raise self.error(
                    record,
                    f"matches {citation.citekey}, whose {name.upper()} is "
                    f"{getattr(citation, name)}, not {values[name]}.",
                )
        plan = _Plan(record)
        if citation is None:
            # Validated once its citekey is allocated (_write_citations).
            plan.citation = Citation(
                **{k: v for k, v in values.items() if v is not None}
            )
            plan.status = CREATED
            return plan
        plan.citation = citation
        if self.same_type and self.same_type(
            citation.publication_type, values.get("publication_type")
        ):
            values = {k: v for k, v in values.items() if k != "publication_type"}
        # BibTeX and RIS keep no paragraph breaks: a text that differs only in
        # its spacing is the same text.
        values = {
            k: v
            for k, v in values.items()
            if k not in SPACED_FIELDS or _words(v) != _words(getattr(citation, k))
        }
        plan.changes = apply_values(citation, values, keep_blank=True)
        plan.status = UPDATED if plan.changes else UNCHANGED
        if plan.changes:
            try:
                validate(citation)
            except ValidationError as error:
                raise self.error(record, describe_error(error)) from None
        return plan

    @staticmethod
    def _same_paper(citation: Citation, values: dict) -> bool:
        return all(
            not values.get(name) or getattr(citation, name) in ("", values[name])
            for name in ("pmid", "doi", "pmcid")
        )

    # Writing -------------------------------------------------------------

    def _write_authors(self, plans: list[_Plan]) -> None:
        """Find or create every author of the chunk; set plan.author_rows."""
        current = self._current_authors([p for p in plans if p.status != CREATED])
        names = {}
        for plan in plans:
            wanted = [(f, g) for f, g, *_ in plan.record.authors]
            if not wanted:
                continue  # a record without authors leaves the list as it is
            if plan.status != CREATED and current.get(plan.citation.pk) == wanted:
                continue
            plan.new_authors = plan.record.authors
            if plan.status != CREATED:
                plan.changes.append("authors")
            if plan.status == UNCHANGED:
                plan.status = UPDATED
            for family, given, collective, *suffix in plan.record.authors:
                names.setdefault((family, given), (collective, "".join(suffix)))
        if not names:
            return
        found = {
            (family, given): pk
            for family, given, pk in Author.objects.filter(
                family_name__in={family for family, _ in names},
                given_name__in={given for _, given in names},
            ).values_list("family_name", "given_name", "pk")
            if (family, given) in names
        }
        missing = []
        for (family, given), (collective, suffix) in names.items():
            if (family, given) not in found:
                author = Author(
                    family_name=family,
                    given_name=given,
                    is_collective=collective,
                    suffix=suffix,
                )
                try:
                    validate(author)
                except ValidationError as error:
                    plan = next(
                        p
                        for p in plans
                        if p.new_authors
                        and any((f, g) == (family, given) for f, g, *_ in p.new_authors)
                    )
                    raise self.error(
                        plan.record, f"author {family!r}: {describe_error(error)}"
                    ) from None
                missing.append(author)
        self.ctx.insert(Author, missing, key=("family_name", "given_name"))
        found.update({(a.family_name, a.given_name): a.pk for a in missing})
        self.authors = found

    def _current_authors(self, plans: list[_Plan]) -> dict[int, list]:
        if not plans:
            return {}
        current: dict[int, list] = {}
        links = (
            CitationAuthor.objects.filter(citation__in=[p.citation.pk for p in plans])
            .order_by("citation_id", "position")
            .values_list("citation_id", "author__family_name", "author__given_name")
        )
        for citation_id, family, given in links:
            current.setdefault(citation_id, []).append((family, given))
        return current

    def _write_citations(self, plans: list[_Plan]) -> None:
        new = [p for p in plans if p.status == CREATED]
        # One load a chunk: a load may forget what an earlier one learnt.
        self.keys.load(
            [citekey_base(p.record.authors, p.record.values.get("year")) for p in new]
            + [p.record.citekey for p in new if p.record.citekey]
        )
        for plan in new:
            base = citekey_base(plan.record.authors, plan.record.values.get("year"))
            plan.citation.citekey = self.keys.allocate(base, plan.record.citekey)
            plan.label = f"{plan.label} as {plan.citation.citekey}"
            plan.citation.normalise()  # as save() would
            try:
                validate(plan.citation)
            except ValidationError as error:
                raise self.error(plan.record, describe_error(error)) from None
        self.ctx.bulk_create(Citation, [p.citation for p in new])
        links = []
        for plan in plans:
            if plan.status == UPDATED:
                plan.label = f"{plan.label} ({plan.citation.citekey})"
                if set(plan.changes) - {"authors"}:
                    self.ctx.stamp(plan.citation).save()
            if plan.status == UNCHANGED:
                plan.label = f"{plan.label} ({plan.citation.citekey})"
            if plan.new_authors is None:
                continue
            authors = [self.authors[(f, g)] for f, g, *_ in plan.new_authors]
            if plan.status == CREATED:
                links += new_links(plan.citation, authors)
            else:
                plan.citation.replace_authors(authors, stamp=self.ctx.stamp)
        # Every link of a new citation is new: their history is found by that.
        new_ids = [p.citation.pk for p in plans if p.status == CREATED]
        self.ctx.insert(CitationAuthor, links, rows=Q(citation__in=new_ids))

    def _link_trials(self, plans: list[_Plan]) -> None:
        wanted = {nct for p in plans for nct in p.record.nct_ids}
        if not wanted:
            return
        if self.trial_model is None:
            for plan in plans:
                plan.record.notes += [
                    f"{n}: trials are not installed, not linked"
                    for n in plan.record.nct_ids
                ]
            return
        trials = {
            t.nct_id: t for t in self.trial_model.objects.filter(nct_id__in=wanted)
        }
        linked = set(
            self.trial_model.publications.through.objects.filter(
                trial__in=trials.values(),
                citation__in=[p.citation.pk for p in plans],
            ).values_list("trial_id", "citation_id")
        )
        for plan in plans:
            for nct_id in plan.record.nct_ids:
                trial = trials.get(nct_id)
                if trial is None:
                    plan.record.notes.append(f"{nct_id} is not in HER2db, not linked")
                    continue
                if (trial.pk, plan.citation.pk) in linked:
                    continue
                linked.add((trial.pk, plan.citation.pk))
                self.ctx.stamp(trial).publications.add(plan.citation)
                plan.changes.append(f"trial {nct_id}")
                if plan.status == UNCHANGED:
                    plan.status = UPDATED


def new_links(citation: Citation, authors: list[int]) -> list[CitationAuthor]:
    """The CitationAuthor rows of a new citation (the importer's hot loop)."""
    # Positional (id, citation, author, position): half the time of keywords.
    links = [
        CitationAuthor(None, citation.pk, author_id, position)
        for position, author_id in enumerate(authors, start=1)
    ]
    if links:
        # The change feed reads the citation of one link a citation; handing
        # it over spares a query for it.
        links[0].citation = citation
    return links


@dataclass
class _Plan:
    record: CitationRecord
    citation: Citation | None = None
    status: str = UNCHANGED
    changes: list[str] = field(default_factory=list)
    new_authors: list | None = None
    label: str = ""

    def __post_init__(self):
        self.label = self.record.label


def citation_values(**values: Any) -> dict[str, Any]:
    """Normalised Citation values: identifiers in their stored form."""
    out = normalise_identifiers(
        {name: values.get(name, "") for name in CITATION_FIELDS}
    )
    out["year"] = values.get("year") or None
    if values.get("authors_truncated"):
        # Only ever set: a source that gives the whole list says nothing of
        # a curator's mark that another source's list was shortened.
        out["authors_truncated"] = True
    if not out["publication_type"]:
        del out["publication_type"]
    return out
