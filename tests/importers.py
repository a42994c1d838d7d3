import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

DATA = Path(__file__).resolve().parent.parent / "data"


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


FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"
# What the trial importer matches against, from the shipped curated data;
# loading all of it takes seconds a test.
CURATED_PART = {
    "therapies.json": {"therapies.target", "therapies.agent", "therapies.agentalias"},
    "references.json": {"references.citation"},
}


@pytest.fixture(scope="session")
def curated_part(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("curated") / "part.json"
    rows = []
    for name, models in CURATED_PART.items():
        data = json.loads((FIXTURES / name).read_text())
        rows += [row for row in data if row["model"] in models]
    path.write_text(json.dumps(rows))
    return path


@pytest.fixture
def curated(db, curated_part):
    """The curated data's real agents, aliases and citations."""
    call_command("loaddata", str(curated_part), verbosity=0)
