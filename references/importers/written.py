"""The ids of the citations an import has written or found up to date.

Kept in a temporary table of the import's transaction, not in memory, so
that an import's memory does not grow with its file. The table goes with
the transaction if the import fails, and is dropped when it ends.
"""

from collections.abc import Iterable

from django.db import connections, router

from references.models import Citation

TABLE = "her2db_import_written"
BATCH = 500


class WrittenIds:
    """A set of citation ids in a temporary table."""

    def __init__(self):
        self.using = router.db_for_write(Citation)
        self.exists = False

    def add(self, ids: Iterable[int]) -> None:
        rows = [(pk,) for pk in ids if pk is not None]
        if not rows:
            return
        with connections[self.using].cursor() as cursor:
            if not self.exists:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {TABLE} (id bigint PRIMARY KEY)"
                )
                self.exists = True
            cursor.executemany(
                f"INSERT INTO {TABLE} (id) VALUES (%s) ON CONFLICT DO NOTHING", rows
            )

    def among(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` that are in the set."""
        ids = [pk for pk in ids if pk is not None]
        if not self.exists or not ids:
            return set()
        found = set()
        with connections[self.using].cursor() as cursor:
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(f"SELECT id FROM {TABLE} WHERE id IN ({marks})", batch)
                found.update(pk for (pk,) in cursor.fetchall())
        return found

    def drop(self) -> None:
        if self.exists:
            with connections[self.using].cursor() as cursor:
                cursor.execute(f"DROP TABLE {TABLE}")
            self.exists = False
