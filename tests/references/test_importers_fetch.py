"""--fetch: the importers download their records first. No test uses the
network: urlopen is replaced by a Server that serves the real records in
tests/data and notes the URLs asked for."""

from io import BytesIO
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management.base import CommandError

import references.importers.base
from references.models import Citation
from tests.importers import DATA, run
from therapies.models import Trial

pytestmark = pytest.mark.django_db


class Server:
    """Stands in for the network: serves ``body`` (a file, or an error to
    raise) and notes the URLs asked for."""

    def __init__(self):
        self.asked: list[str] = []
        self.body = None

    def urlopen(self, request, timeout):
        self.asked.append(request.full_url)
        assert timeout > 0 and "HER2db" in request.get_header("User-agent")
        if isinstance(self.body, Exception):
            raise self.body
        return BytesIO(self.body.read_bytes())


@pytest.fixture
def served(monkeypatch):
    server = Server()
    monkeypatch.setattr(references.importers.base, "urlopen", server.urlopen)
    return server


def test_import_pubmed_fetches_the_records_with_efetch(served):
    served.body = DATA / "pubmed_29963580.xml"
    output = run("import_pubmed", fetch=["29963580"])
    (url,) = served.asked
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi"
    )
    assert parse_qs(parts.query) == {
        "db": ["pubmed"],
        "id": ["29963580"],
        "retmode": ["xml"],
        "tool": ["her2db"],
    }
    citation = Citation.objects.get(pmid="29963580")
    assert "created   PMID 29963580 as Guo2018" in output
    assert citation.history.get().history_change_reason == (
        "import_pubmed pubmed_29963580.xml"
    )


def test_import_ctgov_fetches_each_study_from_the_v2_api(served, curated):
    served.body = DATA / "ctgov_NCT05894239.json"
    assert not Trial.objects.filter(nct_id="NCT05894239").exists()
    run("import_ctgov", fetch=["nct05894239"])
    assert served.asked == ["https://clinicaltrials.gov/api/v2/studies/NCT05894239"]
    assert Trial.objects.filter(nct_id="NCT05894239").count() == 1


def test_a_failed_download_writes_nothing_not_even_the_files_given(served):
    served.body = URLError("Temporary failure in name resolution")
    with pytest.raises(CommandError) as raised:
        run("import_pubmed", DATA / "pubmed_31479209.xml", fetch=["29963580"])
    message = str(raised.value)
    assert "Could not download https://eutils.ncbi.nlm.nih.gov/" in message
    assert "Temporary failure in name resolution" in message
    assert "Nothing was written" in message
    assert not Citation.objects.exists()


@pytest.mark.parametrize(
    ("command", "wrong", "message"),
    [
        ("import_pubmed", "PMC6022861", "Not a PMID: PMC6022861"),
        ("import_ctgov", "NCT123", "Not an NCT id: NCT123"),
    ],
)
def test_identifiers_of_the_wrong_form_are_refused_before_any_download(
    served, command, wrong, message
):
    with pytest.raises(CommandError, match=message):
        run(command, fetch=[wrong])
    assert served.asked == []


def test_a_file_or_an_identifier_is_needed():
    with pytest.raises(CommandError, match="Name at least one FILE or --fetch PMID"):
        run("import_pubmed")
