"""Citations from BibTeX (.bib), RIS (.ris) and CSL-JSON (.json) files.

The formats are read by ``references.formats``, the module the API's
citation renderers use too. Matching, author lists and history work as for
PubMed (``references.importers.writer.CitationWriter``); a BibTeX key or RIS ID
that HER2db can use becomes the new citation's citekey.
"""

from pathlib import Path

from references import formats
from references.names import person_name

from .base import ImportContext, Importer, RecordError, chunked
from .writer import CitationRecord, CitationWriter, citation_values

PARSERS = {
    ".bib": ("BibTeX", formats.parse_bibtex, formats.BIBTEX_TYPES),
    ".bibtex": ("BibTeX", formats.parse_bibtex, formats.BIBTEX_TYPES),
    ".ris": ("RIS", formats.parse_ris, formats.RIS_TYPES),
    ".json": ("CSL-JSON", formats.parse_csl_json, formats.CSL_TYPES),
}
CHUNK = 500


def read_entries(path: Path) -> tuple[str, list, dict]:
    kind = PARSERS.get(path.suffix.lower())
    if kind is None:
        raise RecordError(
            "unknown file type; use .bib (BibTeX), .ris (RIS) or .json (CSL-JSON).",
            source=str(path),
        )
    name, parse, types = kind
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RecordError(f"not UTF-8 text ({error}).", source=str(path)) from None
    try:
        return name, parse(text), types
    except formats.FormatError as error:
        raise RecordError(f"{name}: {error}", source=str(path)) from None


def _author(family: str, given: str) -> tuple[str, str, bool, str]:
    stored, suffix = person_name(given)
    return family, stored, not given, suffix


def to_record(entry: dict, number: int) -> CitationRecord:
    key = entry.get("citekey", "")
    fields = {k: v for k, v in entry.items() if k not in ("authors", "citekey")}
    return CitationRecord(
        label=key or entry.get("doi") or entry.get("pmid") or f"entry {number}",
        where=f"entry {number}" + (f" ({key})" if key else ""),
        values=citation_values(**fields),
        # formats gives a group (a study group) an empty given name; initials
        # run together ("EJ") are written with full stops, as PubMed's are,
        # and a suffix at the end of the given name ("C. E. Jr") is its own.
        authors=[_author(family, given) for family, given in entry["authors"]],
        citekey=key,
    )


class CitationsImporter(Importer):
    """Bibliographic files: BibTeX, RIS or CSL-JSON."""

    name = "citations"
    command = "import_citations"
    description = "BibTeX (.bib), RIS (.ris) or CSL-JSON (.json)"

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        _, entries, types = read_entries(path)

        def same_type(stored: str, read: str | None) -> bool:
            return read is not None and types.get(stored) == types.get(read)

        writer = CitationWriter(ctx, str(path), same_type=same_type)
        records = (to_record(e, n) for n, e in enumerate(entries, start=1))
        for chunk in chunked(ctx.progress(records, total=len(entries)), CHUNK):
            writer.write(chunk)
