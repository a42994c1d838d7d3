"""Import PubMed efetch XML (PubmedArticleSet) into citations.

Parsed with Biopython's Entrez parser, which validates each file against the
PubMed DTD it names. Biopython ships those DTDs; a file naming one it does
not ship is refused rather than fetched, so an import never needs the
network. Records stream from the file and are written a chunk at a time, so
memory stays flat however large the file.
"""

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from Bio.Entrez.Parser import (
    CorruptedXMLError,
    DataHandler,
    ListElement,
    NotXMLError,
)
from Bio.Entrez.Parser import (
    ValidationError as EntrezValidationError,
)

from references.importing import (
    NCT_RE,
    SKIPPED,
    CitationRecord,
    CitationWriter,
    ImportCommand,
    ImportContext,
    RecordError,
    chunked,
    citation_values,
)
from references.models import Citation

CHUNK = 500
ARTICLE_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle", "DeleteCitation"})

PublicationType = Citation.PublicationType
# PubMed publication types, most specific first; the first that a record
# carries decides. Anything else that is an article is a journal article.
PUBLICATION_TYPES = [
    ({"Preprint"}, PublicationType.PREPRINT),
    ({"Review", "Systematic Review"}, PublicationType.REVIEW),
    ({"Practice Guideline", "Guideline"}, PublicationType.LABEL),
    ({"Congress", "Meeting Abstract"}, PublicationType.CONFERENCE_ABSTRACT),
]
# PubMed's inline tags (italics, sub- and superscripts) join their
# neighbours, "P2Y<sub>12</sub>" -> "P2Y12"; other markup (MathML) separates.
INLINE = re.compile(r"</?(?:i|b|u|sub|sup)(?:\s[^>]*)?>")
MARKUP = re.compile(r"<[^>]*>")
SPACE = re.compile(r"\s+")
PAGES = re.compile(r"^(\d+)-(\d+)$")
YEAR = re.compile(r"(\d{4})")


class DTDNotBundled(Exception):
    pass


class OfflineHandler(DataHandler):
    """Biopython's Entrez parser, made to stream PubMed and stay offline.

    * A DTD that Biopython does not ship raises ``DTDNotBundled`` instead of
      being downloaded.
    * ``PubmedArticleSet`` is read as a list, so ``parse`` yields one article
      at a time (Biopython reads it as one dictionary holding every record).
    """

    def externalEntityRefHandler(self, context, base, systemId, publicId):
        filename = os.path.basename(urlparse(systemId).path)
        handle = self.open_dtd_file(filename)
        if handle is None:
            raise DTDNotBundled(
                f"it declares the DTD {systemId}, which Biopython does not ship; "
                "HER2db does not download DTDs. Update Biopython, or fetch the "
                "records again from PubMed (efetch names a current DTD)"
            )
        handle.close()
        # Only local files are read, so the parent URL's scheme does not matter
        # (older efetch files name their DTD over http://).
        self.bypass_url_security = True
        return super().externalEntityRefHandler(context, base, systemId, publicId)

    def elementDecl(self, name, model):
        super().elementDecl(name, model)
        if name == "PubmedArticleSet":
            self.constructors[name] = (ListElement, (ARTICLE_TAGS,))


def read_articles(path: Path) -> Iterator[tuple[int, object]]:
    """Yield (record number, Entrez record) from a PubmedArticleSet file."""
    number = 0
    # escape=True keeps "&lt;" apart from real markup, which text() strips.
    handler = OfflineHandler(validate=True, escape=True, ignore_errors=False)
    try:
        with path.open("rb") as stream:
            for number, record in enumerate(handler.parse(stream), start=1):
                yield number, record
    except RecordError:
        raise
    except DTDNotBundled as error:
        raise RecordError(str(error), source=str(path)) from None
    except NotXMLError as error:
        raise RecordError(
            f"not an XML file ({error}); expected PubMed efetch XML.",
            source=str(path),
        ) from None
    except CorruptedXMLError as error:
        raise RecordError(
            f"malformed XML after record {number} ({error}).", source=str(path)
        ) from None
    except EntrezValidationError as error:
        raise RecordError(f"record {number + 1}: {error}", source=str(path)) from None
    except (ValueError, RuntimeError) as error:
        raise RecordError(
            f"not a PubmedArticleSet ({error}).", source=str(path)
        ) from None


def text(value) -> str:
    """Plain text: markup (<i>, <sub>, MathML) dropped, spaces collapsed."""
    if value is None:
        return ""
    plain = MARKUP.sub(" ", INLINE.sub("", str(value)))
    return SPACE.sub(" ", html.unescape(plain)).strip()


def expand_pages(pages: str) -> str:
    """MEDLINE abbreviates page ranges ("109-19"); write them out ("109-119")."""
    match = PAGES.match(pages)
    if match:
        start, end = match.groups()
        if len(end) < len(start):
            return f"{start}-{start[: len(start) - len(end)]}{end}"
    return pages


def publication_type(types: list[str]) -> str:
    names = set(types)
    for pubmed_names, ours in PUBLICATION_TYPES:
        if names & pubmed_names:
            return ours
    if not names or "Journal Article" in names or any("Trial" in n for n in names):
        return PublicationType.JOURNAL_ARTICLE
    return PublicationType.OTHER


def article_ids(record) -> dict[str, str]:
    ids = {}
    for article_id in record.get("PubmedData", {}).get("ArticleIdList", []):
        kind = article_id.attributes.get("IdType", "")
        ids.setdefault(kind, text(article_id))
    return ids


def map_article(record, label: str) -> CitationRecord:
    """One PubmedArticle as a CitationRecord; RecordError if it cannot be."""
    medline = record.get("MedlineCitation")
    if not medline or "Article" not in medline:
        raise RecordError("no MedlineCitation/Article.", record=label)
    pmid = text(medline.get("PMID"))
    if not pmid:
        raise RecordError("no PMID.", record=label)
    where = f"{label} (PMID {pmid})"
    article = medline["Article"]
    journal = article.get("Journal", {})
    issue = journal.get("JournalIssue", {})
    ids = article_ids(record)
    doi = ids.get("doi", "")
    if not doi:
        doi = next(
            (
                text(e)
                for e in article.get("ELocationID", [])
                if e.attributes.get("EIdType") == "doi"
            ),
            "",
        )
    title = text(article.get("ArticleTitle")) or text(article.get("VernacularTitle"))
    if not title:
        raise RecordError("no ArticleTitle.", record=where)
    values = citation_values(
        pmid=pmid,
        doi=doi,
        pmcid=ids.get("pmc", ""),
        title=title,
        journal=text(journal.get("ISOAbbreviation"))
        or text(medline.get("MedlineJournalInfo", {}).get("MedlineTA"))
        or text(journal.get("Title")),
        year=pub_year(issue.get("PubDate", {}), article),
        volume=text(issue.get("Volume")),
        issue=text(issue.get("Issue")),
        pages=pages(article.get("Pagination", {})),
        abstract=abstract(article.get("Abstract", {})),
        publication_type=publication_type(
            [text(t) for t in article.get("PublicationTypeList", [])]
        ),
    )
    return CitationRecord(
        label=f"PMID {pmid}",
        where=where,
        values=values,
        authors=authors(article.get("AuthorList", []), where),
        nct_ids=nct_ids(article.get("DataBankList", [])),
    )


def pub_year(pub_date, article) -> int | None:
    for value in (pub_date.get("Year"), pub_date.get("MedlineDate")):
        match = YEAR.search(text(value))
        if match:
            return int(match.group(1))
    for date in article.get("ArticleDate", []):
        match = YEAR.search(text(date.get("Year")))
        if match:
            return int(match.group(1))
    return None


def pages(pagination) -> str:
    start, end = text(pagination.get("StartPage")), text(pagination.get("EndPage"))
    if start and end and start != end:
        return f"{start}-{end}"
    return expand_pages(text(pagination.get("MedlinePgn"))) or start


def abstract(abstract_element) -> str:
    parts = []
    for part in abstract_element.get("AbstractText", []):
        label = part.attributes.get("Label", "")
        body = text(part)
        parts.append(f"{label}: {body}" if label and body else body)
    return "\n\n".join(p for p in parts if p)


def authors(author_list, label: str) -> list[tuple[str, str, bool]]:
    out = []
    for author in author_list:
        if author.attributes.get("ValidYN") == "N":
            continue  # PubMed keeps misspelt names, marked invalid
        collective = text(author.get("CollectiveName"))
        if collective:
            out.append((collective, "", True))
            continue
        family = text(author.get("LastName"))
        if not family:
            raise RecordError(f"author {len(out) + 1} has no LastName.", record=label)
        # Initials, as the curated data writes them ("SB"), else the full name.
        given = text(author.get("Initials")) or text(author.get("ForeName"))
        out.append((family, given, False))
    return out


def nct_ids(data_banks) -> list[str]:
    found = []
    for bank in data_banks:
        if text(bank.get("DataBankName")).lower() != "clinicaltrials.gov":
            continue
        for number in bank.get("AccessionNumberList", []):
            nct = text(number).upper()
            if NCT_RE.match(nct) and nct not in found:
                found.append(nct)
    return found


class Command(ImportCommand):
    help = (
        "Import PubMed efetch XML files (PubmedArticleSet): create or update "
        "citations with their authors, and link them to the trials in their "
        "ClinicalTrials.gov data bank entries. All or nothing."
    )

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        writer = CitationWriter(ctx, str(path))
        articles = ctx.progress(read_articles(path), desc=path.name)
        for chunk in chunked(self._records(path, articles, ctx), CHUNK):
            writer.write(chunk)

    def _records(self, path, articles, ctx) -> Iterator[CitationRecord]:
        for number, record in articles:
            label = f"record {number}"
            tag = getattr(record, "tag", "PubmedArticle")
            if tag != "PubmedArticle":
                ctx.summary.add(
                    SKIPPED, label, reason=f"{tag} is not imported (articles only)"
                )
                continue
            try:
                yield map_article(record, label)
            except RecordError as error:
                raise RecordError(
                    error.message, source=str(path), record=error.record
                ) from None
