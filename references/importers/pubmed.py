"""Import PubMed efetch XML (PubmedArticleSet) into citations.

Parsed with lxml (libxml2), streaming: each record is read, mapped and then
cleared, so memory stays flat however large the file, and records are
written a chunk at a time. The parser never loads the DTD a file names,
never resolves external entities and never touches the network: efetch XML
needs none of them, and a file uploaded through the admin gets no way to read
the server's files (XXE) or expand entities without bound.

lxml replaced Biopython's Entrez parser, which builds every element through
Python callbacks and managed 570 to 1,400 records per second on the
benchmark's record shape (``make bench-import``) before anything was
written; libxml2 parses the same file several times faster.

From the command line, a file of more than ``BACKGROUND_BYTES`` is read in a
second process (``references.importers.background``), so that parsing and writing run
on two cores at once.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from lxml import etree

from references.identifiers import PMID_RE, normalise_pmid
from references.names import dotted_initials
from references.publication_types import PublicationType

from .background import read_in_background
from .base import SKIPPED, ImportContext, Importer, ImportFailed, RecordError, chunked
from .writer import NCT_RE, CitationRecord, CitationWriter, Skipped, citation_values

CHUNK = 500
# Files this large are parsed in a second process from the command line.
BACKGROUND_BYTES = 4_000_000
ROOT_TAG = "PubmedArticleSet"
ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")

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
INLINE_TAGS = ("i", "b", "u", "sub", "sup")
PAGES = re.compile(r"^(\d+)-(\d+)$")
EFETCH_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi"
EFETCH_QUERY = {"db": "pubmed", "retmode": "xml", "tool": "her2db"}
EFETCH_BATCH = 200
YEAR = re.compile(r"(\d{4})")

# Safe for uploaded files: no DTD, no external entities, no network, no
# unbounded trees.
PARSER_OPTIONS = {
    "load_dtd": False,
    "no_network": True,
    "resolve_entities": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def read_articles(path: Path) -> Iterator[tuple[int, etree._Element]]:
    """Yield (record number, element) for each record of a PubmedArticleSet.

    Each record is cleared once the caller asks for the next one, so only one
    record is ever held in memory. Inline markup is already merged into the
    text around it, and entities the parser left unexpanded are dropped.
    """
    tag = root_tag(path)
    if tag != ROOT_TAG:
        raise RecordError(
            f"not a {ROOT_TAG} (its root element is <{tag}>); expected PubMed "
            "efetch XML.",
            source=str(path),
        )
    number = 0
    with path.open("rb") as stream:
        parser = etree.iterparse(
            stream, events=("end",), tag=ARTICLE_TAGS, **PARSER_OPTIONS
        )
        try:
            for _event, element in parser:
                root = element.getparent()
                if root is None or root.getparent() is not None:
                    continue  # not a record of the set
                number += 1
                etree.strip_tags(element, *INLINE_TAGS)
                etree.strip_elements(element, etree.Entity, with_tail=False)
                yield number, element
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del root[0]
        except etree.XMLSyntaxError as error:
            raise RecordError(
                f"malformed XML at line {error.lineno}, in or after record "
                f"{number + 1} ({error.msg}).",
                source=str(path),
            ) from None


def root_tag(path: Path) -> str:
    """The tag of the file's root element; RecordError if it is not XML."""
    with path.open("rb") as stream:
        try:
            for _event, element in etree.iterparse(
                stream, events=("start",), **PARSER_OPTIONS
            ):
                return element.tag
        except etree.XMLSyntaxError as error:
            raise RecordError(
                f"not an XML file ({error.msg}); expected PubMed efetch XML.",
                source=str(path),
            ) from None
    raise RecordError("not an XML file (it is empty).", source=str(path))


def read_records(path: Path) -> Iterator[CitationRecord | Skipped]:
    """Every record of the file, mapped; RecordError names file and record."""
    for number, element in read_articles(path):
        label = f"record {number}"
        if element.tag != "PubmedArticle":
            yield Skipped(label, f"{element.tag} is not imported (articles only)")
            continue
        try:
            yield map_article(element, label)
        except RecordError as error:
            raise RecordError(
                error.message, source=str(path), record=error.record
            ) from None


def text(element: etree._Element | None) -> str:
    """Plain text, spaces collapsed; markup that is left (MathML) separates."""
    if element is None:
        return ""
    if len(element):
        return " ".join(" ".join(element.itertext()).split())
    return " ".join(element.text.split()) if element.text else ""


def children(element: etree._Element | None) -> dict[str, etree._Element]:
    """The first child element of each tag."""
    found: dict[str, etree._Element] = {}
    if element is not None:
        for child in element:
            found.setdefault(child.tag, child)
    return found


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


def article_ids(pubmed_data: dict[str, etree._Element]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for article_id in pubmed_data.get("ArticleIdList", ()):
        ids.setdefault(article_id.get("IdType", ""), text(article_id))
    return ids


def map_article(record: etree._Element, label: str) -> CitationRecord:
    """One PubmedArticle as a CitationRecord; RecordError if it cannot be."""
    parts = children(record)
    medline = children(parts.get("MedlineCitation"))
    article = children(medline.get("Article"))
    if not article:
        raise RecordError("no MedlineCitation/Article.", record=label)
    pmid = text(medline.get("PMID"))
    if not pmid:
        raise RecordError("no PMID.", record=label)
    where = f"{label} (PMID {pmid})"
    ids = article_ids(children(parts.get("PubmedData")))
    doi = ids.get("doi", "") or next(
        (
            text(e)
            for e in medline["Article"].iterchildren("ELocationID")
            if e.get("EIdType") == "doi"
        ),
        "",
    )
    title = text(article.get("ArticleTitle")) or text(article.get("VernacularTitle"))
    if not title:
        raise RecordError("no ArticleTitle.", record=where)
    journal = children(article.get("Journal"))
    issue = children(journal.get("JournalIssue"))
    values = citation_values(
        pmid=pmid,
        doi=doi,
        pmcid=ids.get("pmc", ""),
        title=title,
        journal=text(journal.get("ISOAbbreviation"))
        or text(children(medline.get("MedlineJournalInfo")).get("MedlineTA"))
        or text(journal.get("Title")),
        year=pub_year(children(issue.get("PubDate")), article.get("ArticleDate")),
        volume=text(issue.get("Volume")),
        issue=text(issue.get("Issue")),
        pages=pages(children(article.get("Pagination"))),
        abstract=abstract(article.get("Abstract")),
        publication_type=publication_type(
            [text(t) for t in article.get("PublicationTypeList", ())]
        ),
        # PubMed marks an author list it knows to be incomplete.
        authors_truncated=article.get("AuthorList") is not None
        and article["AuthorList"].get("CompleteYN") == "N",
    )
    return CitationRecord(
        label=f"PMID {pmid}",
        where=where,
        values=values,
        authors=authors(article.get("AuthorList"), where),
        nct_ids=nct_ids(article.get("DataBankList")),
    )


def pub_year(pub_date: dict, article_date: etree._Element | None) -> int | None:
    candidates = [pub_date.get("Year"), pub_date.get("MedlineDate")]
    candidates.append(children(article_date).get("Year"))
    for element in candidates:
        match = YEAR.search(text(element))
        if match:
            return int(match.group(1))
    return None


def pages(pagination: dict) -> str:
    start, end = text(pagination.get("StartPage")), text(pagination.get("EndPage"))
    if start and end and start != end:
        return f"{start}-{end}"
    return expand_pages(text(pagination.get("MedlinePgn"))) or start


def abstract(element: etree._Element | None) -> str:
    parts = []
    for part in element.iterchildren("AbstractText") if element is not None else ():
        label = part.get("Label", "")
        body = text(part)
        parts.append(f"{label}: {body}" if label and body else body)
    return "\n\n".join(p for p in parts if p)


def authors(author_list, label: str) -> list[tuple[str, str, bool, str]]:
    """(family, given, collective, suffix) of each valid author, in order.

    Given names are the initials with full stops ("S. M."), as the curated
    data writes them, else the full given name.
    """
    out = []
    for author in author_list.iterchildren("Author") if author_list is not None else ():
        if author.get("ValidYN") == "N":
            continue  # PubMed keeps misspelt names, marked invalid
        name = children(author)
        collective = text(name.get("CollectiveName"))
        if collective:
            out.append((collective, "", True, ""))
            continue
        family = text(name.get("LastName"))
        if not family:
            raise RecordError(f"author {len(out) + 1} has no LastName.", record=label)
        given = dotted_initials(
            text(name.get("Initials")) or text(name.get("ForeName"))
        )
        out.append((family, given, False, text(name.get("Suffix"))))
    return out


def nct_ids(data_banks) -> list[str]:
    found = []
    for bank in data_banks.iterchildren("DataBank") if data_banks is not None else ():
        parts = children(bank)
        if text(parts.get("DataBankName")).lower() != "clinicaltrials.gov":
            continue
        for number in parts.get("AccessionNumberList", ()):
            nct = text(number).upper()
            if NCT_RE.match(nct) and nct not in found:
                found.append(nct)
    return found


class PubMedImporter(Importer):
    """PubMed efetch XML: citations, their authors and their trials."""

    name = "pubmed"
    command = "import_pubmed"
    description = "PubMed efetch XML (.xml)"
    fetch_id = "PMID"

    def fetch_urls(self, ids: list[str]) -> list[tuple[str, str]]:
        """One efetch request for every PMID (E-utilities takes 200 at a time)."""
        pmids = list(dict.fromkeys(normalise_pmid(i) for i in ids))
        bad = [i for i in pmids if not re.match(PMID_RE, i)]
        if bad:
            raise ImportFailed(f"Not a PMID: {', '.join(bad)} (digits only).")
        return [
            (
                f"pubmed_{batch[0]}.xml"
                if len(batch) == 1
                else f"pubmed_{batch[0]}_and_{len(batch) - 1}_more.xml",
                f"{EFETCH_URL}?{urlencode({**EFETCH_QUERY, 'id': ','.join(batch)})}",
            )
            for batch in chunked(pmids, EFETCH_BATCH)
        ]

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        writer = CitationWriter(ctx, str(path))
        if ctx.background and path.stat().st_size > BACKGROUND_BYTES:
            chunks = read_in_background(read_records, path, CHUNK)
        else:
            chunks = chunked(read_records(path), CHUNK)
        with ctx.progress_bar(desc=path.name) as bar:
            for chunk in chunks:
                records = []
                for item in chunk:
                    if isinstance(item, Skipped):
                        ctx.summary.add(SKIPPED, item.label, reason=item.reason)
                    else:
                        records.append(item)
                writer.write(records)
                bar.update(len(chunk))
