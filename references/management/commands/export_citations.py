from pathlib import Path

from django.core.management.base import CommandError

from her2db.commands import Command as BaseCommand
from references import formats
from references.filters import select_citations
from references.models import Citation

WRITERS = {
    "csl": formats.to_csl_json,
    "bibtex": formats.to_bibtex,
    "ris": formats.to_ris,
}
EXTENSIONS = {".json": "csl", ".bib": "bibtex", ".ris": "ris"}
# Options that are the API's citation filters (references.filters), by the
# name of the filter.
FILTERS = {
    "pmid": "pmid",
    "doi": "doi",
    "since": "year_min",
    "journal": "journal",
    "publication_type": "publication_type",
    "search": "search",
    "retracted": "retracted",
}


class Command(BaseCommand):
    help = (
        "Write citations as CSL-JSON, BibTeX or RIS (the API's formats), all of "
        "them or those the options select, as the API's citation filters do."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=sorted(WRITERS),
            help="Default: from the --output extension (.json, .bib, .ris), "
            "else bibtex.",
        )
        parser.add_argument(
            "-o", "--output", type=Path, help="File to write (default: stdout)."
        )
        parser.add_argument(
            "--citekey", action="append", default=[], help="Repeat for several."
        )
        parser.add_argument("--pmid", action="append", default=[])
        parser.add_argument("--doi", action="append", default=[], help="Any case.")
        parser.add_argument("--year", type=int, help="Published this year.")
        parser.add_argument("--since", type=int, metavar="YEAR")
        parser.add_argument("--journal", help="Journal abbreviation, any case.")
        parser.add_argument(
            "--type",
            choices=Citation.PublicationType.values,
            dest="publication_type",
        )
        parser.add_argument(
            "--search",
            help="Words in the identifiers, title, journal or authors' names.",
        )
        parser.add_argument(
            "--retracted",
            choices=["yes", "no"],
            help="Only retracted citations, or none of them.",
        )

    def handle(self, *args, **options):
        output = options["output"]
        name = options["format"] or EXTENSIONS.get(
            output.suffix.lower() if output else "", "bibtex"
        )
        params = {
            name: options[option]
            for option, name in FILTERS.items()
            if options[option] not in (None, [])
        }
        if options["retracted"]:
            params["retracted"] = "true" if options["retracted"] == "yes" else "false"
        if options["year"]:
            params["year_max"] = options["year"]
            params["year_min"] = max(options["year"], options["since"] or 0)
        try:
            citations = select_citations(params, options["citekey"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        text = WRITERS[name](citations)
        if output:
            output.write_text(text if text.endswith("\n") else text + "\n")
            self.stderr.write(f"Wrote {len(citations)} citations to {output}.")
        else:
            self.stdout.write(text)
