from references.importers.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import ClinicalTrials.gov API v2 study JSON files (one study, or a page "
        'with "studies"): create or update trials, their arms and agents, and '
        "link the PubMed references HER2db holds. All or nothing."
    )
    importer = "ctgov"
