from references.importers.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import PubMed efetch XML files (PubmedArticleSet): create or update "
        "citations with their authors, and link them to the trials in their "
        "ClinicalTrials.gov data bank entries. All or nothing."
    )
    importer = "pubmed"
