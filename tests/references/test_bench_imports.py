"""make bench-import's benchmark (tests/bench/imports.py) on a few records:
what it times is an import that writes every record, then a re-import that
changes nothing."""

from io import StringIO

import pytest

from references.models import Citation, CitationAuthor
from tests.bench.imports import BenchError, run
from tests.conftest import make_citation

pytestmark = pytest.mark.django_db


def test_the_benchmark_imports_every_record_then_changes_nothing():
    out = StringIO()
    figures = run(20, out)
    imported, reimported = figures["imported"], figures["reimported"]
    assert dict(imported.counts) == {"created": 20}
    assert dict(reimported.counts) == {"unchanged": 20}
    assert figures["parsed"] == 20 and figures["records_per_second"] > 0
    assert Citation.objects.count() == 20
    # Nine authors a record, one of them a collective, each with history.
    assert CitationAuthor.objects.count() == 180
    assert CitationAuthor.history.filter(history_type="+").count() == 180
    assert Citation.history.count() == 20
    report = out.getvalue()
    assert "20 records" in report and "Nothing to change" in report


def test_the_benchmark_refuses_a_database_with_citations():
    make_citation()
    with pytest.raises(BenchError, match="scratch database"):
        run(20, StringIO())
