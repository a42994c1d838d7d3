from django.core.management.base import CommandError

from her2db.commands import Command as BaseCommand
from therapies.checks import find_problems


class Command(BaseCommand):
    help = (
        "Report integrity problems in the curated data (evidence without citation, "
        "trials without arms, malformed identifiers, mechanisms outside the tree, "
        "incomplete approvals, duplicate people or papers). Exits non-zero when "
        "it finds any."
    )

    def handle(self, *args, **options):
        problems = find_problems()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("No problems found."))
