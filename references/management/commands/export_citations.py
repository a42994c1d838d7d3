from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from references import formats
from references.models import Citation

WRITERS = {
    "csl": formats.to_csl_json,
    "bibtex": formats.to_bibtex,
    "ris": formats.to_ris,
}
EXTENSIONS = {".json": "csl", ".bib": "bibtex", ".ris": "ris"}


class Command(BaseCommand):
    help = (
        "Write citations as CSL-JSON, BibTeX or RIS (the API's formats), all of "
        "them or those the options select."
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
        parser.add_argument("--doi", action="append", default=[])
        parser.add_argument("--year", type=int, help="Published this year.")
        parser.add_argument("--since", type=int, metavar="YEAR")
        parser.add_argument("--journal", help="Journal abbreviation, exactly.")
        parser.add_argument(
            "--type",
            choices=Citation.PublicationType.values,
            dest="publication_type",
        )
        parser.add_argument("--search", help="Words in the title.")
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
        citations = self.select(options)
        text = WRITERS[name](citations)
        if output:
            output.write_text(text if text.endswith("\n") else text + "\n")
            self.stderr.write(f"Wrote {len(citations)} citations to {output}.")
        else:
            self.stdout.write(text)

    def select(self, options) -> list[Citation]:
        query = Q()
        if options["citekey"]:
            query &= Q(citekey__in=options["citekey"])
        if options["pmid"]:
            query &= Q(pmid__in=options["pmid"])
        if options["doi"]:
            query &= Q(doi__in=[d.lower() for d in options["doi"]])
        if options["year"]:
            query &= Q(year=options["year"])
        if options["since"]:
            query &= Q(year__gte=options["since"])
        if options["journal"]:
            query &= Q(journal=options["journal"])
        if options["publication_type"]:
            query &= Q(publication_type=options["publication_type"])
        if options["search"]:
            for word in options["search"].split():
                query &= Q(title__icontains=word)
        if options["retracted"]:
            query &= Q(retracted=options["retracted"] == "yes")
        citations = list(Citation.objects.with_authors().filter(query))
        missing = set(options["citekey"]) - {c.citekey for c in citations}
        if missing:
            raise CommandError(
                f"No citation with citekey {', '.join(sorted(missing))}."
            )
        return citations
