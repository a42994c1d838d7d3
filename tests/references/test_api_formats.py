"""Citations as CSL-JSON, BibTeX and RIS, read back with the ecosystem's own
parsers and checked against the CSL data schema."""

import json
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import rispy

from references.formats import MEDIA_TYPES
from tests.conftest import make_citation

pytestmark = pytest.mark.django_db

CSL_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "csl-data.json").read_text()
)


def test_one_citation_as_bibtex(anon, world):
    response = anon.get("/api/v1/citations/Scaltriti2007/?format=bibtex")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    library = bibtexparser.parse_string(response.content.decode())
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.key == "Scaltriti2007"
    assert entry.entry_type == "article"
    assert entry["doi"] == "10.1093/jnci/djk003"
    assert entry["pmid"] == "17264300"
    assert entry["year"] == "2007"
    assert entry["author"] == "Scaltriti, M"


def test_one_citation_as_ris(anon, world):
    response = anon.get(
        "/api/v1/citations/Scaltriti2007/", HTTP_ACCEPT=MEDIA_TYPES["ris"]
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(MEDIA_TYPES["ris"])
    [record] = rispy.loads(response.content.decode())
    assert record["type_of_reference"] == "JOUR"
    assert record["id"] == "Scaltriti2007"
    assert record["authors"] == ["Scaltriti, M"]
    assert record["doi"] == "10.1093/jnci/djk003"
    assert record["accession_number"] == "17264300"


def test_a_filtered_list_as_csl_json_is_valid_csl(anon, world):
    response = anon.get(
        "/api/v1/citations/?year_min=2007&year_max=2007",
        HTTP_ACCEPT=MEDIA_TYPES["csl"],
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(MEDIA_TYPES["csl"])
    items = json.loads(response.content)
    jsonschema.validate(items, CSL_SCHEMA)
    assert [item["id"] for item in items] == ["Scaltriti2007"]
    assert items[0]["author"] == [{"family": "Scaltriti", "given": "M"}]
    assert items[0]["issued"] == {"date-parts": [[2007]]}
    assert response["X-Total-Count"] == "1"


def test_format_parameter_and_accept_header_agree(anon, world):
    for name, media_type in MEDIA_TYPES.items():
        by_param = anon.get(f"/api/v1/citations/?format={name}")
        by_accept = anon.get("/api/v1/citations/", HTTP_ACCEPT=media_type)
        assert by_param.content == by_accept.content
        assert by_param["Content-Type"] == by_accept["Content-Type"]


def test_export_lists_come_a_page_at_a_time_with_links(anon):
    for i in range(5):
        make_citation(citekey=f"Paged{i}2020", title=f"Paper {i}")
    first = anon.get("/api/v1/citations/?format=bibtex&page_size=2")
    library = bibtexparser.parse_string(first.content.decode())
    assert [e.key for e in library.entries] == ["Paged02020", "Paged12020"]
    assert first["X-Total-Count"] == "5"
    assert first["Link"] == (
        "<http://testserver/api/v1/citations/?format=bibtex&page=2&page_size=2>; "
        'rel="next"'
    )
    last = anon.get("/api/v1/citations/?format=ris&page_size=2&page=3")
    assert [r["id"] for r in rispy.loads(last.content.decode())] == ["Paged42020"]
    assert 'rel="prev"' in last["Link"]


def test_an_empty_export_is_an_empty_document(anon):
    for fmt in ("bibtex", "ris"):
        response = anon.get(f"/api/v1/citations/?format={fmt}&search=nothing")
        assert response.status_code == 200
        assert response["Content-Type"].startswith(MEDIA_TYPES[fmt])
        assert response.content.strip() == b""
    csl = anon.get("/api/v1/citations/?format=csl&search=nothing")
    assert json.loads(csl.content) == []


def test_export_errors_are_json(anon, world):
    missing = anon.get("/api/v1/citations/Nobody1999/?format=bibtex")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    bad = anon.get("/api/v1/citations/?format=ris&year_min=abc")
    assert bad.status_code == 400
    assert bad.json() == {"year_min": ["Enter a whole number."]}


def test_unknown_formats_are_refused(anon, world):
    assert anon.get("/api/v1/citations/?format=endnote").status_code == 406
    refused = anon.get("/api/v1/citations/", HTTP_ACCEPT="application/x-endnote")
    assert refused.status_code == 406
    # Other resources have JSON only.
    assert anon.get("/api/v1/agents/?format=bibtex").status_code == 406


def test_writes_answer_in_json_whatever_the_format(curator_api):
    response = curator_api.post(
        "/api/v1/citations/?format=bibtex",
        {"citekey": "Json2024", "title": "Still JSON"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["citekey"] == "Json2024"
