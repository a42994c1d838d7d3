"""Citekeys for new citations: "Baselga2012", then "Baselga2012b"..."""

import re
import unicodedata
from collections.abc import Iterable

from django.db import connections, router
from django.db.models import Q

from references.models import Citation


def ascii_key(text: str) -> str:
    """ "Cortés" -> "Cortes", "Piccart-Gebhart" -> "PiccartGebhart"."""
    folded = unicodedata.normalize("NFKD", text)
    folded = folded.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def citekey_base(authors: list[tuple[str, str, bool]], year: int | None) -> str:
    family = ascii_key(authors[0][0]) if authors else ""
    family = family[:50] or "Anon"
    if not family[0].isalpha():
        family = "Ref" + family
    return f"{family}{year or ''}"


class CitekeyAllocator:
    """Free citekeys: Baselga2012, then Baselga2012b, Baselga2012c...

    One allocator serves a whole import: the keys it hands out are added to
    what it knows is taken, so later chunks need not ask the database again.
    It forgets everything past ``limit`` keys, so memory stays flat.
    """

    def __init__(self, limit: int = 5_000):
        self.taken: set[str] = set()
        self.loaded: set[str] = set()
        self.limit = limit

    def load(self, bases: Iterable[str]) -> None:
        """Learn which keys starting with each of ``bases`` are taken.

        Load every base a chunk needs in one call: a call past the limit first
        forgets what earlier calls learnt.
        """
        if len(self.taken) + len(self.loaded) > self.limit:
            self.taken, self.loaded = set(), set()
        bases = set(bases) - self.loaded
        if not bases:
            return
        keys = Citation.objects.values_list("citekey", flat=True)
        used = set(keys.filter(citekey__in=bases))
        # Only a base in use can have taken siblings that matter ("Smith2018b").
        if used:
            siblings = Q(*(starts_with("citekey", b) for b in used), _connector=Q.OR)
            used.update(keys.filter(siblings))
        self.taken |= used
        self.loaded |= bases

    def allocate(self, base: str, wanted: str = "") -> str:
        if wanted and wanted not in self.taken:
            self.taken.add(wanted)
            return wanted
        key, suffix = base, "b"
        while key in self.taken:
            key = base + suffix
            suffix = _next_suffix(suffix)
        self.taken.add(key)
        return key


def starts_with(field: str, prefix: str) -> Q:
    """Rows whose ``field`` starts with ``prefix``, through the field's index.

    SQLite's LIKE ignores case and so cannot use the index: there the same
    rows are a range (text compares byte by byte). PostgreSQL's LIKE uses the
    pattern index Django gives unique text fields; a range would follow the
    collation's order instead.
    """
    if connections[router.db_for_read(Citation)].vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
    return Q(**{f"{field}__startswith": prefix})


def _next_suffix(suffix: str) -> str:
    # b .. z, then ba, bb ... (a never, so the first key reads "Name2012").
    if suffix[-1] != "z":
        return suffix[:-1] + chr(ord(suffix[-1]) + 1)
    return _next_suffix(suffix[:-1]) + "a" if len(suffix) > 1 else "ba"
