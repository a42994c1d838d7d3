"""Shared helpers of the importer and release tests: running a command, the
records in tests/data, and the curated data's agents and citations."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

DATA = Path(__file__).resolve().parent / "data"


def run(command: str, *args, **options) -> str:
    """Run a management command; return what it printed."""
    out = StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def variant(tmp_path: Path, name: str, text: str) -> Path:
    """A file derived from a real record in tests/data (see the test's comment)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def curated(db, shipped_data):
    """The curated data's real agents, aliases, trials and citations."""
