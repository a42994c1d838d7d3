"""The base of every HER2db management command: database faults as errors.

A database that is full, read-only, unreachable or not migrated is not a bug
in the command: it ends with `CommandError: <why>` on stderr and a non-zero
exit, not a traceback. Each command runs in one transaction (`atomic`), so a
fault part way leaves nothing written.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError, transaction

from her2db.faults import database_unavailable


class Command(BaseCommand):
    """BaseCommand whose database faults are CommandErrors, in one transaction."""

    # Commands that write nothing, or keep their own transactions, say False.
    atomic = True

    def execute(self, *args, **options):
        try:
            if not self.atomic:
                return super().execute(*args, **options)
            with transaction.atomic():
                return super().execute(*args, **options)
        except IntegrityError:
            raise  # a broken rule: each command says which in its own words
        except DatabaseError as error:
            raise CommandError(database_error_message(error)) from error


def database_error_message(error: DatabaseError) -> str:
    reason = database_unavailable(error)
    if reason is None:
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if "no such table" in text or "does not exist" in text:
            reason = f"The database is not set up ({text}); run manage.py migrate"
        else:
            reason = f"The database refused the change ({text or type(error).__name__})"
    return f"{reason}. Nothing was written."
