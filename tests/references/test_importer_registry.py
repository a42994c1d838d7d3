"""The importer registry: each app registers its own; the commands and the
admin's upload page find them there."""

import pytest
from django.core.management import load_command_class

from references.importers import registry
from references.importers.citations import CitationsImporter
from references.importers.pubmed import PubMedImporter
from therapies.importers.ctgov import CtgovImporter


def test_each_app_registers_its_importers():
    found = {importer.name: type(importer) for importer in registry.all_importers()}
    assert found == {
        "pubmed": PubMedImporter,
        "citations": CitationsImporter,
        "ctgov": CtgovImporter,
    }


@pytest.mark.parametrize(
    ("app", "command", "name"),
    [
        ("references", "import_pubmed", "pubmed"),
        ("references", "import_citations", "citations"),
        ("therapies", "import_ctgov", "ctgov"),
    ],
)
def test_each_import_command_runs_its_registered_importer(app, command, name):
    assert load_command_class(app, command).importer == name
    assert registry.get(name).command == command


def test_an_unknown_importer_is_a_lookup_error():
    with pytest.raises(LookupError, match="No importer named 'endnote'"):
        registry.get("endnote")
