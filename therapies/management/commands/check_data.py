from django.core.management.base import CommandError

from her2db.commands import Command as BaseCommand
from therapies.checks import find_gaps, find_problems
from therapies.coverage import coverage_report


class Command(BaseCommand):
    help = (
        "Report integrity problems in the curated data (evidence without citation, "
        "trials without arms, approved agents without an approval, malformed "
        "identifiers, mechanisms outside the tree, incomplete approvals, outcomes "
        "whose CI misses its estimate or whose arm is another trial's, duplicate "
        "people or papers), then the gaps the data is still being filled for "
        "(HER2-positive breast approvals citing neither label nor trial, initials "
        "without full stops, one person under two spellings unless marked as "
        "different people). Exits non-zero on any problem, and with --strict on "
        "any gap too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict", action="store_true", help="Fail on gaps as on problems."
        )
        parser.add_argument(
            "--coverage",
            action="store_true",
            help="Print every empty field a record of its kind should have, per "
            "model, with counts and the records' keys (fixtures/README.md quotes "
            "it); nothing else.",
        )

    def handle(self, *args, strict=False, coverage=False, **options):
        if coverage:
            self.stdout.write(coverage_report())
            return
        problems = find_problems()
        for problem in problems:
            self.stdout.write(problem)
        gaps = find_gaps()
        for gap in gaps:
            self.stdout.write(f"gap: {gap}")
        failing = len(problems) + (len(gaps) if strict else 0)
        if failing:
            raise CommandError(f"{len(problems)} problem(s), {len(gaps)} gap(s) found.")
        if gaps:
            self.stdout.write(
                self.style.WARNING(
                    f"No problems found; {len(gaps)} gap(s) to fill "
                    "(--strict fails on them)."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS("No problems found."))
