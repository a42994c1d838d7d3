from references.importers.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import citations from BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) "
        "files: create or update them, matched by PMID, DOI, then citekey. "
        "All or nothing."
    )
    importer = "citations"
