"""What every importer shares: the summary, the all-or-nothing run, saving a
model instance only when it changed, and bringing in citations.

An importer is a management command built on ``ImportCommand``. It reads its
files and hands records to an ``ImportContext``, which writes them with
history attributed to the import ("import_pubmed FILE", and the user given
with --user). The whole run is one transaction: a malformed file or record
raises ``RecordError``, which becomes a ``CommandError`` naming the file and
the record, and nothing is written. ``--dry-run`` does all the work and then
rolls it back, so the summary shows exactly what would change.

The admin's upload page (``references.admin_import``) calls the same
commands through ``ImportCommand.import_files``.

This module knows nothing of ``therapies``: links from citations to trials
go through ``apps.get_model`` and are skipped when that app is absent.
"""

from __future__ import annotations

import re
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import (
    DatabaseError,
    IntegrityError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import Q, Value
from django.utils import timezone
from tqdm import tqdm

from her2db.operations import current_id
from references.models import Author, Citation, CitationAuthor, normalise_doi
from references.signals import bulk_history_created

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"
STATUSES = (CREATED, UPDATED, UNCHANGED, SKIPPED)

# Records whose details the summary keeps; past this only counts grow, so a
# run's memory stays flat however long the file.
DETAIL_LIMIT = 2000


class RecordError(Exception):
    """A file or record the importer cannot take; the whole run stops."""

    def __init__(self, message: str, *, source: str = "", record: str = ""):
        self.message, self.source, self.record = message, source, record
        where = ": ".join(part for part in (source, record) if part)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class Outcome:
    """What happened to one record."""

    status: str
    label: str
    changes: list[str] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"{self.status:9} {self.label}"
        if self.changes:
            text += f" ({', '.join(self.changes)})"
        if self.reason:
            text += f": {self.reason}"
        return text


class Summary:
    """Counts by status, and the records that changed or were skipped."""

    def __init__(self, detail_limit: int = DETAIL_LIMIT):
        self.counts: Counter[str] = Counter()
        self.outcomes: list[Outcome] = []
        self.notes: list[str] = []
        self.detail_limit = detail_limit
        self.dry_run = False

    def add(
        self,
        status: str,
        label: str,
        changes: Iterable[str] = (),
        reason: str = "",
        notes: Iterable[str] = (),
    ) -> Outcome:
        outcome = Outcome(status, label, sorted(set(changes)), reason, list(notes))
        self.counts[status] += 1
        if len(self.outcomes) < self.detail_limit:
            self.outcomes.append(outcome)
        room = self.detail_limit - len(self.notes)
        self.notes.extend(f"{label}: {note}" for note in outcome.notes[:room])
        return outcome

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def changed(self) -> bool:
        return bool(self.counts[CREATED] or self.counts[UPDATED])

    def headline(self) -> str:
        counts = ", ".join(f"{self.counts[s]} {s}" for s in STATUSES)
        if not self.total:
            return "No records found."
        if not self.changed:
            return f"Nothing to change: {counts}."
        verb = "Would write" if self.dry_run else "Done"
        return f"{verb}: {counts}."

    def lines(self, verbosity: int = 1) -> list[str]:
        """The report: changed and skipped records, notes, then the totals."""
        shown = [o for o in self.outcomes if verbosity > 1 or o.status != UNCHANGED]
        lines = [o.describe() for o in shown]
        hidden = self.total - len(self.outcomes)
        if hidden > 0:
            lines.append(f"... and {hidden} more records, counted in the totals.")
        lines += [f"note: {note}" for note in self.notes[: self.detail_limit]]
        lines.append(self.headline())
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return lines


class ImportContext:
    """One import run: who and why (for history), and its summary."""

    def __init__(
        self,
        reason: str,
        user=None,
        dry_run: bool = False,
        progress=True,
        background: bool = False,
    ):
        self.reason = reason
        # May a large file be read in a second process (references.background)?
        self.background = background
        self.user = user
        self.dry_run = dry_run
        self.show_progress = progress
        self.summary = Summary()
        self.summary.dry_run = dry_run
        # Identifiers already brought in by this run ("NCT01234567" -> where).
        self.seen: dict[str, str] = {}
        # Citations this run has written or found up to date: a later record
        # of the same paper is a duplicate.
        self.written = WrittenIds()

    def stamp(self, obj: models.Model) -> models.Model:
        """Attribute the history rows this object's next save writes."""
        obj._change_reason = self.reason
        obj._history_user = self.user
        return obj

    def progress(self, iterable: Iterable, desc: str = "", total=None) -> Iterable:
        """A progress bar on an interactive terminal, nothing otherwise."""
        enabled = self.show_progress and sys.stderr.isatty()
        return tqdm(
            iterable, desc=desc, total=total, unit=" records", disable=not enabled
        )

    def progress_bar(self, desc: str = "", total=None) -> tqdm:
        """A bar to update() by hand, shown on an interactive terminal only."""
        enabled = self.show_progress and sys.stderr.isatty()
        return tqdm(desc=desc, total=total, unit=" records", disable=not enabled)

    def sync(
        self, obj: models.Model, values: dict[str, Any], *, keep_blank=True
    ) -> tuple[str, list[str]]:
        """Set ``values`` on ``obj`` and save it if anything changed.

        Returns (created / updated / unchanged, names of the changed fields).
        With ``keep_blank`` an empty value leaves a filled field as it is: a
        record that omits something does not erase what a curator entered.
        """
        adding = obj._state.adding
        changed = apply_values(obj, values, keep_blank=keep_blank and not adding)
        if not adding and not changed:
            return UNCHANGED, []
        validate(obj)
        self.stamp(obj).save()
        return (CREATED, []) if adding else (UPDATED, changed)

    def save_new(self, obj: models.Model) -> models.Model:
        validate(obj)
        self.stamp(obj).save()
        return obj

    def bulk_create(
        self,
        model: type[models.Model],
        objs: list,
        key: tuple[str, ...] | None = None,
        rows: Q | None = None,
    ) -> list:
        """Insert new rows and their history in a few queries.

        ``key`` names fields that are unique together (attnames, such as
        ``("citekey",)``): the rows' primary keys are read back by it, for
        the rows that will point at them. Rows nobody points at can instead
        say how to find them all (``rows``, a filter) for their history.
        """
        if not objs:
            return []
        using = router.db_for_write(model)
        insert_objects(model, objs, using)
        if key is not None:
            read_back_pks(model, objs, key, using)
        self.record_history(model, objs, rows=rows)
        return objs

    def record_history(
        self, model: type[models.Model], objs: list, rows: Q | None = None
    ) -> None:
        """Write "created" history rows for rows saved without history.

        The rows are what simple-history's ``bulk_history_create`` writes, one
        per object, attributed to this import. The database copies them from
        the table (INSERT ... SELECT) instead of Python building a historical
        model instance for each: ``make bench-import`` spent most of an
        import there. ``rows`` selects the rows to copy, when they are all
        the table holds for it (the author links of new citations); by
        default they are ``objs``, by primary key.
        """
        if not objs:
            return
        when = timezone.now()
        using = router.db_for_write(model)
        user_id = self.user.pk if self.user is not None else None
        if rows is not None:
            copy_to_history(model, rows, when, self.reason, user_id, using)
        else:
            for batch in chunked(objs, BATCH):
                selected = Q(pk__in=[obj.pk for obj in batch])
                copy_to_history(model, selected, when, self.reason, user_id, using)
        # Receivers (the change feed) get one signal for the whole batch.
        bulk_history_created.send(
            sender=model, instances=objs, history_date=when, using=using
        )


def copy_to_history(
    model: type[models.Model],
    rows: Q,
    when,
    reason: str,
    user_id: int | None,
    using: str,
) -> None:
    """INSERT the "created" history rows of the rows of ``model`` that
    ``rows`` selects, with one INSERT ... SELECT."""
    history = model.history.model
    tracked = {field.attname for field in history.tracked_fields}
    extra = {
        "history_date": Value(when, output_field=models.DateTimeField()),
        "history_change_reason": Value(reason, output_field=models.TextField()),
        "history_type": Value("+", output_field=models.CharField()),
        "history_user_id": Value(user_id, output_field=models.IntegerField()),
        "operation": Value(current_id(), output_field=models.UUIDField()),
    }
    columns = [f for f in history._meta.concrete_fields if not f.primary_key]
    unknown = [f.attname for f in columns if f.attname not in tracked | extra.keys()]
    if unknown:
        raise ImproperlyConfigured(
            f"{history.__name__} has columns an import cannot fill: {unknown}"
        )
    select = (
        model._default_manager.using(using)
        .filter(rows)
        .order_by()
        .annotate(**extra)
        .values_list(*(f.attname for f in columns))
    )
    sql, params = select.query.sql_with_params()
    quote = connections[using].ops.quote_name
    insert = "INSERT INTO {} ({}) ".format(
        quote(history._meta.db_table), ", ".join(quote(f.column) for f in columns)
    )
    with connections[using].cursor() as cursor:
        cursor.execute(insert + sql, params)


def insert_objects(model: type[models.Model], objs: list, using: str) -> None:
    """INSERT new model instances without their primary keys (see insert_rows).

    ``auto_now`` and ``auto_now_add`` fields get one time for the batch, as
    the rows go in together.
    """
    now = timezone.now()
    columns, getters = [], []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.AutoField):
            continue
        columns.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
        getters.append(attrgetter(f.attname))
    rows = ([get(obj) for get in getters] for obj in objs)
    insert_rows(model, columns, rows, using)


def read_back_pks(
    model: type[models.Model], objs: list, key: tuple[str, ...], using: str
) -> None:
    """Set the primary keys of just-inserted objects, found by unique ``key``."""
    first = key[0]
    found = {
        tuple(row[:-1]): row[-1]
        for row in model._default_manager.using(using)
        .filter(**{f"{first}__in": {getattr(obj, first) for obj in objs}})
        .values_list(*key, "pk")
    }
    for obj in objs:
        obj.pk = found[tuple(getattr(obj, name) for name in key)]
        obj._state.adding = False
        obj._state.db = using


# Field types whose Python values, as importers set them (str, int, bool,
# None), are what the database adapters take. Other fields' values go through
# get_db_prep_save, as in a save().
PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
    }
)
BATCH = 500


def insert_rows(
    model: type[models.Model],
    columns: list[models.Field],
    rows: Iterable[list],
    using: str,
) -> None:
    """INSERT rows (values in the order of ``columns``), a batch a query.

    Unlike bulk_create: no per-value SQL compiling and no primary keys
    returned (read_back_pks finds those that are needed), for the rows an
    import writes by the thousand.
    """
    connection = connections[using]
    prepare = [
        None
        if stored_type(f) in PLAIN_TYPES
        # Most values repeat (a batch's timestamps): convert each once.
        else lru_cache(maxsize=64)(partial(f.get_db_prep_save, connection=connection))
        if stored_type(f) == "DateTimeField"
        else partial(f.get_db_prep_save, connection=connection)
        for f in columns
    ]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in columns),
        ", ".join(["%s"] * len(columns)),
    )
    converted = [i for i, p in enumerate(prepare) if p is not None]
    with connection.cursor() as cursor:
        for batch in chunked(rows, BATCH):
            for row in batch:
                for i in converted:
                    row[i] = prepare[i](row[i])
            cursor.executemany(sql, batch)


def stored_type(field: models.Field) -> str:
    """The field's type as stored: a foreign key stores its target's."""
    while field.is_relation:
        field = field.target_field
    return field.get_internal_type()


class WrittenIds:
    """The ids of the citations an import has written or found up to date.

    Kept in a temporary table of the import's transaction, not in memory, so
    that an import's memory does not grow with its file. The table goes
    with the transaction if the import fails, and is dropped when it ends.
    """

    TABLE = "her2db_import_written"

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
                    f"CREATE TEMPORARY TABLE {self.TABLE} (id bigint PRIMARY KEY)"
                )
                self.exists = True
            cursor.executemany(
                f"INSERT INTO {self.TABLE} (id) VALUES (%s) ON CONFLICT DO NOTHING",
                rows,
            )

    def among(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` that are in the set."""
        ids = [pk for pk in ids if pk is not None]
        if not self.exists or not ids:
            return set()
        found = set()
        with connections[self.using].cursor() as cursor:
            for batch in chunked(ids, BATCH):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT id FROM {self.TABLE} WHERE id IN ({marks})", batch
                )
                found.update(pk for (pk,) in cursor.fetchall())
        return found

    def drop(self) -> None:
        if self.exists:
            with connections[self.using].cursor() as cursor:
                cursor.execute(f"DROP TABLE {self.TABLE}")
            self.exists = False


def apply_values(obj: models.Model, values: dict[str, Any], keep_blank=True) -> list:
    """Set the values that differ; return the names of those fields.

    With ``keep_blank`` an empty value ("" or None) changes nothing.
    """
    changed = []
    for name, value in values.items():
        if keep_blank and value in ("", None):
            continue
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def validate(obj: models.Model) -> None:
    """Field validators (formats, lengths, choices); the database checks the rest."""
    obj.full_clean(validate_unique=False, validate_constraints=False)


def describe_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}"
                for name, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    return str(error).strip() or type(error).__name__


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


FETCH_AGENT = "HER2db importer"
FETCH_TIMEOUT = 60  # seconds
FETCH_LIMIT = 200_000_000  # bytes a download may bring


class ImportCommand(BaseCommand):
    """FILE... with --dry-run and --user, all or nothing, with a summary.

    Subclasses implement ``import_file(path, ctx)``,
    reporting each record to ``ctx.summary`` and raising ``RecordError`` for
    anything malformed.
    """

    # Model permissions (app_label.codename) a user needs to run this import
    # from the admin.
    permissions: tuple[str, ...] = ("references.add_citation",)
    # What --fetch takes ("PMID"), for importers that can download their
    # records (those that implement fetch_urls).
    fetch_id: str = ""

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
        if self.fetch_id:
            parser.add_argument(
                "--fetch",
                nargs="+",
                default=[],
                metavar=self.fetch_id,
                help="Download these records first (needs network access), "
                "then import them with the FILEs.",
            )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change and write nothing.",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record this user as the author of the changes in the history.",
        )

    def handle(self, *args, files, dry_run, user, fetch=(), **options):
        if not files and not fetch:
            what = f"FILE or --fetch {self.fetch_id}" if self.fetch_id else "FILE"
            raise CommandError(f"Name at least one {what}.")
        user_obj = None
        if user:
            User = get_user_model()
            try:
                user_obj = User._default_manager.get_by_natural_key(user)
            except User.DoesNotExist:
                raise CommandError(f"No user named {user!r}.") from None
        with tempfile.TemporaryDirectory(prefix="her2db-fetch-") as folder:
            downloads = self.download(fetch, Path(folder)) if fetch else []
            summary = self.import_files(
                [*files, *downloads],
                dry_run=dry_run,
                user=user_obj,
                progress=True,
                background=True,
            )
        style = self.style.SUCCESS if summary.changed else self.style.NOTICE
        for line in summary.lines(options["verbosity"]):
            self.stdout.write(style(line) if line == summary.headline() else line)

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        dry_run: bool = False,
        user=None,
        reason: str | None = None,
        progress: bool = False,
        background: bool = False,
    ) -> Summary:
        """Import the files in one transaction; return what (would have) changed."""
        paths = [Path(p) for p in paths]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
        reason = reason or f"{self.command_name()} {' '.join(p.name for p in paths)}"
        ctx = ImportContext(
            reason[:100],
            user=user,
            dry_run=dry_run,
            progress=progress,
            background=background,
        )
        path = None
        try:
            with transaction.atomic():
                for path in paths:
                    self.import_file(path, ctx)
                ctx.written.drop()
                if dry_run:
                    transaction.set_rollback(True)
        except RecordError as error:
            raise CommandError(f"{error} Nothing was written.") from error
        except (ValidationError, IntegrityError, DatabaseError) as error:
            message = describe_error(error).rstrip(".")
            raise CommandError(f"{path}: {message}. Nothing was written.") from error
        return ctx.summary

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        raise NotImplementedError

    def fetch_urls(self, ids: list[str]) -> list[tuple[str, str]]:
        """(file name, URL) to download for these identifiers; CommandError
        for an identifier of the wrong form."""
        raise NotImplementedError

    def download(self, ids: list[str], folder: Path) -> list[Path]:
        """Save the records of ``ids`` in ``folder``; CommandError if one fails."""
        paths = []
        for name, url in self.fetch_urls(ids):
            path = folder / name
            request = Request(url, headers={"User-Agent": FETCH_AGENT})
            try:
                with urlopen(request, timeout=FETCH_TIMEOUT) as response:
                    path.write_bytes(response.read(FETCH_LIMIT + 1))
            except (OSError, ValueError) as error:  # URLError is an OSError
                reason = getattr(error, "reason", None) or error
                raise CommandError(
                    f"Could not download {url} ({reason}). Nothing was written; "
                    "save the records as a file and import that instead."
                ) from None
            if path.stat().st_size > FETCH_LIMIT:
                raise CommandError(
                    f"{url} sent more than {FETCH_LIMIT // 1_000_000} MB; fetch "
                    "fewer records at a time. Nothing was written."
                )
            paths.append(path)
        return paths

    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]


# Citations ----------------------------------------------------------------


@dataclass
class Skipped:
    """A record the source holds that the importer leaves out, and why."""

    label: str
    reason: str


@dataclass
class CitationRecord:
    """One citation as a source gives it, ready to match and write."""

    label: str  # how the summary names it, e.g. "PMID 22149875"
    values: dict[str, Any]  # Citation field values; blank means "not given"
    authors: list[tuple[str, str, bool]]  # (family, given, is_collective)
    citekey: str = ""  # the key the source asks for (BibTeX, RIS ID)
    nct_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    where: str = ""  # where errors point, e.g. "record 3 (PMID 22149875)"


CITATION_FIELDS = [
    "pmid",
    "doi",
    "pmcid",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "abstract",
    "publication_type",
    "url",
]
NCT_RE = re.compile(r"^NCT[0-9]{8}$")
SPACED_FIELDS = {"title", "abstract"}


def _words(text: str | None) -> list[str]:
    return (text or "").split()


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


class CitationWriter:
    """Matches citation records to the database and writes the differences.

    Works a chunk at a time: a few queries find every citation, author and
    trial the chunk mentions, new rows go in with bulk inserts (history
    included), and only citations that changed are saved one by one.
    Existing citations are matched by PMID, then DOI, then the requested
    citekey (when the identifiers agree).
    """

    def __init__(self, ctx: ImportContext, source: str, same_type=None):
        self.ctx = ctx
        self.source = source
        # same_type(stored, read) -> True when the source cannot tell the two
        # publication types apart (BibTeX has no "review"): keep the stored one.
        self.same_type = same_type
        self.keys = CitekeyAllocator()
        self.trial_model = (
            apps.get_model("therapies", "Trial")
            if apps.is_installed("therapies")
            else None
        )
        # (family, given) -> Author id, for the chunk being written.
        self.authors: dict[tuple[str, str], int] = {}

    def error(self, record: CitationRecord, message: str) -> RecordError:
        return RecordError(
            message, source=self.source, record=record.where or record.label
        )

    def write(self, records: list[CitationRecord]) -> None:
        """Match and write one chunk of records."""
        seen: dict[str, str] = {}
        records = [r for r in records if self._first_time(r, seen)]
        if not records:
            return
        existing = self._existing(records)
        plans = [self._plan(r, existing) for r in records]
        earlier = self.ctx.written.among(p.citation.pk for p in plans)
        plans = [p for p in plans if not self._seen_before(p, earlier)]
        self._write_authors(plans)
        self._write_citations(plans)
        self._link_trials(plans)
        self.ctx.written.add(plan.citation.pk for plan in plans)
        for plan in plans:
            self.ctx.summary.add(
                plan.status, plan.label, plan.changes, notes=plan.record.notes
            )

    # Matching --------------------------------------------------------------

    def _first_time(self, record: CitationRecord, seen: dict[str, str]) -> bool:
        """False (and skipped) when another record of the chunk has its ids."""
        idents = [
            f"{name}:{record.values[name]}"
            for name in ("pmid", "doi", "pmcid")
            if record.values.get(name)
        ]
        for ident in idents:
            if ident in seen:
                name, value = ident.split(":", 1)
                self.ctx.summary.add(
                    SKIPPED,
                    record.label,
                    reason=f"same {name.upper()} {value} as {seen[ident]} earlier "
                    "in this import",
                )
                return False
        for ident in idents:
            seen[ident] = record.label
        return True

    def _seen_before(self, plan: _Plan, earlier: set[int]) -> bool:
        """True (and skipped) when an earlier chunk brought in the same paper."""
        if plan.citation.pk not in earlier:
            return False
        plan.citation.refresh_from_db()  # undo the values _plan applied
        self.ctx.summary.add(
            SKIPPED,
            plan.record.label,
            reason=f"the same paper as {plan.citation.citekey}, which an earlier "
            "record of this import brought in",
        )
        return True

    def _existing(self, records: list[CitationRecord]) -> dict[str, dict]:
        wanted = {name: set() for name in ("pmid", "doi", "pmcid", "citekey")}
        for record in records:
            for name in ("pmid", "doi", "pmcid"):
                if record.values.get(name):
                    wanted[name].add(record.values[name])
            if record.citekey:
                wanted["citekey"].add(record.citekey)
        query = Q(pk__in=[])
        for name, values in wanted.items():
            if values:
                query |= Q(**{f"{name}__in": values})
        found = {name: {} for name in wanted}
        for citation in Citation.objects.filter(query):
            for name in found:
                value = getattr(citation, name)
                if value:
                    found[name][value] = citation
        return found

    def _plan(self, record: CitationRecord, existing: dict) -> _Plan:
        values = record.values
        by_pmid = existing["pmid"].get(values.get("pmid") or None)
        by_doi = existing["doi"].get(values.get("doi") or None)
        if by_pmid and by_doi and by_pmid != by_doi:
            raise self.error(
                record,
                f"PMID {values['pmid']} is {by_pmid.citekey} in HER2db but DOI "
                f"{values['doi']} is {by_doi.citekey}.",
            )
        citation = by_pmid or by_doi
        if citation is None and record.citekey:
            candidate = existing["citekey"].get(record.citekey)
            if candidate and self._same_paper(candidate, values):
                citation = candidate
        for name in ("pmid", "doi", "pmcid"):
            other = existing[name].get(values.get(name) or None)
            if other is not None and other != citation:
                raise self.error(
                    record,
                    f"{name.upper()} {values[name]} already belongs to "
                    f"{other.citekey}, which this record does not match.",
                )
            if (
                citation
                and values.get(name)
                and getattr(citation, name)
                not in (
                    "",
                    values[name],
                )
            ):
                raise self.error(
                    record,
                    f"matches {citation.citekey}, whose {name.upper()} is "
                    f"{getattr(citation, name)}, not {values[name]}.",
                )
        plan = _Plan(record)
        if citation is None:
            # Validated once its citekey is allocated (_write_citations).
            plan.citation = Citation(
                **{k: v for k, v in values.items() if v is not None}
            )
            plan.status = CREATED
            return plan
        plan.citation = citation
        if self.same_type and self.same_type(
            citation.publication_type, values.get("publication_type")
        ):
            values = {k: v for k, v in values.items() if k != "publication_type"}
        # BibTeX and RIS keep no paragraph breaks: a text that differs only in
        # its spacing is the same text.
        values = {
            k: v
            for k, v in values.items()
            if k not in SPACED_FIELDS or _words(v) != _words(getattr(citation, k))
        }
        plan.changes = apply_values(citation, values, keep_blank=True)
        plan.status = UPDATED if plan.changes else UNCHANGED
        if plan.changes:
            try:
                validate(citation)
            except ValidationError as error:
                raise self.error(record, describe_error(error)) from None
        return plan

    @staticmethod
    def _same_paper(citation: Citation, values: dict) -> bool:
        return all(
            not values.get(name) or getattr(citation, name) in ("", values[name])
            for name in ("pmid", "doi", "pmcid")
        )

    # Writing -------------------------------------------------------------

    def _write_authors(self, plans: list[_Plan]) -> None:
        """Find or create every author of the chunk; set plan.author_rows."""
        current = self._current_authors([p for p in plans if p.status != CREATED])
        names = {}
        for plan in plans:
            wanted = [(f, g) for f, g, _ in plan.record.authors]
            if not wanted:
                continue  # a record without authors leaves the list as it is
            if plan.status != CREATED and current.get(plan.citation.pk) == wanted:
                continue
            plan.new_authors = plan.record.authors
            if plan.status != CREATED:
                plan.changes.append("authors")
            if plan.status == UNCHANGED:
                plan.status = UPDATED
            for family, given, collective in plan.record.authors:
                names.setdefault((family, given), collective)
        if not names:
            return
        found = {
            (family, given): pk
            for family, given, pk in Author.objects.filter(
                family_name__in={family for family, _ in names},
                given_name__in={given for _, given in names},
            ).values_list("family_name", "given_name", "pk")
            if (family, given) in names
        }
        missing = []
        for (family, given), collective in names.items():
            if (family, given) not in found:
                author = Author(
                    family_name=family, given_name=given, is_collective=collective
                )
                try:
                    validate(author)
                except ValidationError as error:
                    plan = next(
                        p
                        for p in plans
                        if p.new_authors
                        and any((f, g) == (family, given) for f, g, _ in p.new_authors)
                    )
                    raise self.error(
                        plan.record, f"author {family!r}: {describe_error(error)}"
                    ) from None
                missing.append(author)
        self.ctx.bulk_create(Author, missing, key=("family_name", "given_name"))
        found.update({(a.family_name, a.given_name): a.pk for a in missing})
        self.authors = found

    def _current_authors(self, plans: list[_Plan]) -> dict[int, list]:
        if not plans:
            return {}
        current: dict[int, list] = {}
        links = (
            CitationAuthor.objects.filter(citation__in=[p.citation.pk for p in plans])
            .order_by("citation_id", "position")
            .values_list("citation_id", "author__family_name", "author__given_name")
        )
        for citation_id, family, given in links:
            current.setdefault(citation_id, []).append((family, given))
        return current

    def _write_citations(self, plans: list[_Plan]) -> None:
        new = [p for p in plans if p.status == CREATED]
        # One load a chunk: a load may forget what an earlier one learnt.
        self.keys.load(
            [citekey_base(p.record.authors, p.record.values.get("year")) for p in new]
            + [p.record.citekey for p in new if p.record.citekey]
        )
        for plan in new:
            base = citekey_base(plan.record.authors, plan.record.values.get("year"))
            plan.citation.citekey = self.keys.allocate(base, plan.record.citekey)
            plan.label = f"{plan.label} as {plan.citation.citekey}"
            try:
                validate(plan.citation)
            except ValidationError as error:
                raise self.error(plan.record, describe_error(error)) from None
        self.ctx.bulk_create(Citation, [p.citation for p in new], key=("citekey",))
        links = []
        for plan in plans:
            if plan.status == UPDATED:
                plan.label = f"{plan.label} ({plan.citation.citekey})"
                if set(plan.changes) - {"authors"}:
                    self.ctx.stamp(plan.citation).save()
            if plan.status == UNCHANGED:
                plan.label = f"{plan.label} ({plan.citation.citekey})"
            if plan.new_authors is None:
                continue
            authors = [self.authors[(f, g)] for f, g, _ in plan.new_authors]
            if plan.status == CREATED:
                links += new_links(plan.citation, authors)
            else:
                self._replace_authors(plan.citation, authors)
        # Every link of a new citation is new: their history is found by that.
        new_ids = [p.citation.pk for p in plans if p.status == CREATED]
        self.ctx.bulk_create(CitationAuthor, links, rows=Q(citation__in=new_ids))

    def _replace_authors(self, citation: Citation, authors: list[int]) -> None:
        """Change the author list position by position, with history."""
        links = {link.position: link for link in citation.citation_authors.all()}
        for position, author_id in enumerate(authors, start=1):
            link = links.pop(position, None)
            if link is None:
                self.ctx.save_new(
                    CitationAuthor(
                        citation=citation, author_id=author_id, position=position
                    )
                )
            elif link.author_id != author_id:
                link.author_id = author_id
                self.ctx.stamp(link).save()
        for link in links.values():
            self.ctx.stamp(link).delete()

    def _link_trials(self, plans: list[_Plan]) -> None:
        wanted = {nct for p in plans for nct in p.record.nct_ids}
        if not wanted:
            return
        if self.trial_model is None:
            for plan in plans:
                plan.record.notes += [
                    f"{n}: trials are not installed, not linked"
                    for n in plan.record.nct_ids
                ]
            return
        trials = {
            t.nct_id: t for t in self.trial_model.objects.filter(nct_id__in=wanted)
        }
        linked = set(
            self.trial_model.publications.through.objects.filter(
                trial__in=trials.values(),
                citation__in=[p.citation.pk for p in plans],
            ).values_list("trial_id", "citation_id")
        )
        for plan in plans:
            for nct_id in plan.record.nct_ids:
                trial = trials.get(nct_id)
                if trial is None:
                    plan.record.notes.append(f"{nct_id} is not in HER2db, not linked")
                    continue
                if (trial.pk, plan.citation.pk) in linked:
                    continue
                linked.add((trial.pk, plan.citation.pk))
                self.ctx.stamp(trial).publications.add(plan.citation)
                plan.changes.append(f"trial {nct_id}")
                if plan.status == UNCHANGED:
                    plan.status = UPDATED


def new_links(citation: Citation, authors: list[int]) -> list[CitationAuthor]:
    """The CitationAuthor rows of a new citation (the importer's hot loop)."""
    # Positional (id, citation, author, position): half the time of keywords.
    links = [
        CitationAuthor(None, citation.pk, author_id, position)
        for position, author_id in enumerate(authors, start=1)
    ]
    if links:
        # The change feed reads the citation of one link a citation; handing
        # it over spares a query for it.
        links[0].citation = citation
    return links


@dataclass
class _Plan:
    record: CitationRecord
    citation: Citation | None = None
    status: str = UNCHANGED
    changes: list[str] = field(default_factory=list)
    new_authors: list | None = None
    label: str = ""

    def __post_init__(self):
        self.label = self.record.label


def citation_values(**values: Any) -> dict[str, Any]:
    """Normalised Citation values: identifiers in their stored form."""
    out = {name: values.get(name, "") for name in CITATION_FIELDS}
    out["doi"] = normalise_doi(out["doi"] or "")
    out["pmcid"] = (out["pmcid"] or "").strip().upper()
    out["pmid"] = (out["pmid"] or "").strip()
    out["year"] = values.get("year") or None
    if not out["publication_type"]:
        del out["publication_type"]
    return out
