"""RIS: the exact export, read-backs, other tools' files."""

import pytest
import rispy

from references.formats import parse_ris, to_ris
from tests.conftest import make_citation
from tests.references.full_citation import TITLE, URL, fetch, make_full_citation

pytestmark = pytest.mark.django_db


def test_ris_export_is_exactly_this():
    assert to_ris([make_full_citation()]) == (
        "TY  - JOUR\n"
        "ID  - Cortes2020\n"
        "AU  - Cortés, Javier\n"
        "AU  - HERA Study Group\n"
        "AU  - von Minckwitz, Gunter\n"
        f"TI  - {TITLE}\n"
        "T2  - N Engl J Med\n"
        "PY  - 2020\n"
        "VL  - 382\n"
        "IS  - 7\n"
        "SP  - 610\n"
        "EP  - 621\n"
        "DO  - 10.1000/her2db.test.0001\n"
        "AN  - 12345678\n"
        "DB  - PubMed\n"
        "C2  - PMC1234567\n"
        f"UR  - {URL}\n"
        "AB  - Dual HER2 blockade improved outcomes.\n"
        "ER  - \n"
    )


def test_rispy_reads_our_ris():
    records = rispy.loads(to_ris([make_full_citation(), fetch(make_citation())[0]]))
    assert len(records) == 2
    record = records[0]
    assert record["type_of_reference"] == "JOUR"
    assert record["authors"] == [
        "Cortés, Javier",
        "HERA Study Group",
        "von Minckwitz, Gunter",
    ]
    assert {
        key: record[key]
        for key in ("id", "title", "secondary_title", "year", "start_page", "end_page")
    } == {
        "id": "Cortes2020",
        "title": TITLE,
        "secondary_title": "N Engl J Med",
        "year": "2020",
        "start_page": "610",
        "end_page": "621",
    }
    assert (record["doi"], record["accession_number"], record["custom2"]) == (
        "10.1000/her2db.test.0001",
        "12345678",
        "PMC1234567",
    )


def test_ris_line_breaks_cannot_forge_tags():
    citation = fetch(make_citation(abstract="First line.\nER  - \nTY  - JOUR"))[0]
    (record,) = parse_ris(to_ris([citation]))
    assert record["abstract"] == "First line. ER - TY - JOUR"


def test_parse_ris_reads_other_tools_conventions():
    text = "\ufeff" + "\r\n".join(
        [
            "TY  - EJOUR",
            "A1  - Baselga, J.",
            "A1  - HERA Study Group",
            "T1  - Neoadjuvant HER2 blockade:",
            "  a randomised trial",
            "JF  - Journal of Clinical Oncology",
            "J2  - J Clin Oncol",
            "Y1  - 2019/05/01/",
            "SP  - 100-110",
            "DO  - doi:10.1200/JCO.2018.99.1234",
            "AN  - 31234567",
            "C2  - pmc7654321",
            "XY  - an unknown tag",
            "ER  - ",
            "",
            "TY  - BOOK",
            "TI  - A book",
            "AN  - WOS:000123456700001",
            "DB  - Web of Science",
            "C2  - not a PMCID",
            "ER  - ",
        ]
    )
    first, second = parse_ris(text)
    assert first == {
        "citekey": "",
        "title": "Neoadjuvant HER2 blockade: a randomised trial",
        "journal": "Journal of Clinical Oncology",
        "year": 2019,
        "volume": "",
        "issue": "",
        "pages": "100-110",
        "doi": "10.1200/jco.2018.99.1234",
        "pmid": "31234567",
        "pmcid": "PMC7654321",
        "url": "",
        "abstract": "",
        "publication_type": "JOURNAL_ARTICLE",
        "authors": [("Baselga", "J."), ("HERA Study Group", "")],
    }
    assert (second["title"], second["pmid"], second["pmcid"]) == ("A book", "", "")
    assert second["publication_type"] == "OTHER"
