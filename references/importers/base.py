"""What every importer shares: the summary, the run context, the download
that ``--fetch`` does, the all-or-nothing run, and record errors.

An importer is a subclass of ``Importer`` in the registry
(``references.importers.registry``), used by its management command and by
the admin's upload page alike. It reads its files and hands records to an
``ImportContext``, which writes them with history attributed to the import
("import_pubmed FILE", and the user given). The whole run is one
transaction: a malformed file or record raises ``RecordError``, which
becomes an ``ImportFailed`` naming the file and the record, and nothing is
written. A dry run does all the work and then rolls it back, so the summary
shows exactly what would change.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm

from references.signals import bulk_history_created

from .sql import WrittenIds, copy_created_history, insert_rows, read_back_pks

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"
STATUSES = (CREATED, UPDATED, UNCHANGED, SKIPPED)

# Records whose details the summary keeps; past this only counts grow, so a
# run's memory stays flat however long the file.
DETAIL_LIMIT = 2000
# Rows a bulk insert sends in one query.
BATCH = 500

FETCH_AGENT = "HER2db importer"
FETCH_TIMEOUT = 60  # seconds
FETCH_LIMIT = 200_000_000  # bytes a download may bring


class RecordError(Exception):
    """A file or record the importer cannot take; the whole run stops."""

    def __init__(self, message: str, *, source: str = "", record: str = ""):
        self.message, self.source, self.record = message, source, record
        where = ": ".join(part for part in (source, record) if part)
        super().__init__(f"{where}: {message}" if where else message)


def interruption_behind(error: BaseException) -> BaseException | None:
    """The interruption (a BaseException that is not an Exception: a stop
    by a signal, Ctrl-C) that `error` was raised while handling, if any."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if not isinstance(error, Exception):
            return error
        error = error.__cause__ or error.__context__
    return None


class ImportFailed(Exception):
    """An import that wrote nothing, and why (for a command or a page)."""


class PreviewComplete(Exception):
    """A preview (a dry run with a limit) has seen the records it shows."""


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

    def __init__(self, detail_limit: int = DETAIL_LIMIT, limit: int | None = None):
        self.counts: Counter[str] = Counter()
        self.outcomes: list[Outcome] = []
        self.notes: list[str] = []
        self.detail_limit = detail_limit
        self.dry_run = False
        # A preview stops after `limit` records (PreviewComplete); `in_files`
        # then says how many records the files hold, when the importer can
        # count them cheaply.
        self.limit = limit
        self.stopped_early = False
        self.in_files: int | None = None

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
        if self.limit is not None and self.total >= self.limit:
            self.stopped_early = True
            raise PreviewComplete()
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
        if self.stopped_early:
            lines.append(self.preview_note())
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return lines

    def preview_note(self) -> str:
        held = f" of the {self.in_files:,} in the file" if self.in_files else ""
        return (
            f"Previewed the first {self.total:,} records{held}; importing reads "
            "them all."
        )


class ImportContext:
    """One import run: who and why (for history), and its summary."""

    def __init__(
        self,
        reason: str,
        user=None,
        dry_run: bool = False,
        progress=True,
        background: bool = False,
        preview_limit: int | None = None,
    ):
        self.reason = reason
        # May a large file be read in a second process (importers.background)?
        self.background = background
        self.user = user
        self.dry_run = dry_run
        self.show_progress = progress
        self.summary = Summary(limit=preview_limit if dry_run else None)
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

    def progress_bar(self, desc: str = "", total=None) -> tqdm:
        """A bar to update() by hand, shown on an interactive terminal only."""
        enabled = self.show_progress and sys.stderr.isatty()
        return tqdm(desc=desc, total=total, unit=" records", disable=not enabled)

    def progress(self, iterable: Iterable, desc: str = "", total=None) -> Iterable:
        """A progress bar on an interactive terminal, nothing otherwise."""
        enabled = self.show_progress and sys.stderr.isatty()
        return tqdm(
            iterable, desc=desc, total=total, unit=" records", disable=not enabled
        )

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

    def bulk_create(self, model: type[models.Model], objs: list) -> list:
        """Insert new, validated rows with Django's ``bulk_create`` (which
        sets their primary keys) and their "created" history rows."""
        if not objs:
            return []
        using = router.db_for_write(model)
        model._default_manager.using(using).bulk_create(objs, batch_size=BATCH)
        self._copy_history(model, objs, self._by_pk(objs), using)
        return objs

    def insert(
        self,
        model: type[models.Model],
        objs: list,
        *,
        key: tuple[str, ...] = (),
        rows: Q | None = None,
    ) -> list:
        """Insert new, validated rows by hand (``importers.sql``), where
        ``make bench-import`` showed ``bulk_create`` too slow: the authors
        and the author links of new citations. Their "created" history rows
        are found by their primary keys, read back by the unique ``key``
        (attnames), or by ``rows``, a filter that finds exactly them."""
        if not objs:
            return []
        using = router.db_for_write(model)
        insert_rows(model, objs, using)
        if key:
            read_back_pks(model, objs, key, using)
        selections = [rows] if rows is not None else self._by_pk(objs)
        self._copy_history(model, objs, selections, using)
        return objs

    @staticmethod
    def _by_pk(objs: list) -> list[Q]:
        batches = (objs[i : i + BATCH] for i in range(0, len(objs), BATCH))
        return [Q(pk__in=[obj.pk for obj in batch]) for batch in batches]

    def _copy_history(self, model, objs: list, selections: list[Q], using) -> None:
        # Copied by the database (importers.sql): simple-history's
        # bulk_history_create builds each row in Python, which halved the
        # rate of make bench-import.
        when = timezone.now()
        user_id = self.user.pk if self.user is not None else None
        for selected in selections:
            copy_created_history(model, selected, when, self.reason, user_id, using)
        self._announce(model, objs, when)

    def record_history(self, model: type[models.Model], objs: list) -> None:
        """Write "created" history rows for rows saved without history."""
        if not objs:
            return
        when = timezone.now()
        model.history.bulk_history_create(
            objs,
            batch_size=BATCH,
            default_user=self.user,
            default_change_reason=self.reason,
            default_date=when,
        )
        self._announce(model, objs, when)

    @staticmethod
    def _announce(model: type[models.Model], objs: list, when) -> None:
        # simple-history's bulk helpers send no per-row signal: receivers
        # (the change feed) get one for the whole batch.
        bulk_history_created.send(
            sender=model,
            instances=objs,
            history_date=when,
            using=router.db_for_write(model),
        )


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


def find_user(username: str | None):
    """The user named ``username`` (None for none); ImportFailed if unknown."""
    if not username:
        return None
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        raise ImportFailed(f"No user named {username!r}.") from None


class Importer:
    """Files of one kind, imported all or nothing, with a summary.

    Subclasses implement ``import_file(path, ctx)``, reporting each record to
    ``ctx.summary`` and raising ``RecordError`` for anything malformed.
    """

    # The registry's name for it ("pubmed"), and the command that runs it
    # from the command line, which history rows name ("import_pubmed FILE").
    name: str = ""
    command: str = ""
    # What the admin's upload page calls the files it takes.
    description: str = ""
    # Model permissions (app_label.codename) a user needs to run it from the
    # admin.
    permissions: tuple[str, ...] = ("references.add_citation",)
    # What --fetch takes ("PMID"), for importers that can download their
    # records (those that implement fetch_urls).
    fetch_id: str = ""

    def run(
        self,
        files: Iterable[Path] = (),
        fetch: Iterable[str] = (),
        *,
        dry_run: bool = False,
        username: str | None = None,
    ) -> Summary:
        """The command line's import: download ``fetch`` first, then import
        them with ``files``, reading large files in a second process."""
        files, fetch = list(files), list(fetch)
        if not files and not fetch:
            what = f"FILE or --fetch {self.fetch_id}" if self.fetch_id else "FILE"
            raise ImportFailed(f"Name at least one {what}.")
        user = find_user(username)
        with tempfile.TemporaryDirectory(prefix="her2db-fetch-") as folder:
            downloads = self.download(fetch, Path(folder)) if fetch else []
            return self.import_files(
                [*files, *downloads],
                dry_run=dry_run,
                user=user,
                progress=True,
                background=True,
            )

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        dry_run: bool = False,
        user=None,
        reason: str | None = None,
        progress: bool = False,
        background: bool = False,
        preview_limit: int | None = None,
    ) -> Summary:
        """Import the files in one transaction; return what (would have) changed.

        A dry run with ``preview_limit`` stops after that many records (the
        admin's preview of a large file); the summary says so.
        """
        paths = [Path(p) for p in paths]
        for path in paths:
            if not path.is_file():
                raise ImportFailed(f"{path}: no such file.")
        reason = reason or f"{self.command} {' '.join(p.name for p in paths)}"
        ctx = ImportContext(
            reason[:100],
            user=user,
            dry_run=dry_run,
            progress=progress,
            background=background,
            preview_limit=preview_limit,
        )
        path = None
        try:
            with transaction.atomic():
                for path in paths:
                    self.import_file(path, ctx)
                ctx.written.drop()
                if dry_run:
                    transaction.set_rollback(True)
        except PreviewComplete:
            # Rolled back like any dry run; the rest of the files is counted.
            counts = [self.count_records(p) for p in paths]
            if None not in counts:
                ctx.summary.in_files = sum(counts)
        except RecordError as error:
            raise ImportFailed(f"{error} Nothing was written.") from error
        except (ValidationError, IntegrityError, DatabaseError) as error:
            stop = interruption_behind(error)
            if stop is not None:
                # A signal stopped the import mid-statement, and the driver
                # failed cleaning up after it: the stop is what happened.
                raise stop from None
            message = describe_error(error).rstrip(".")
            raise ImportFailed(f"{path}: {message}. Nothing was written.") from error
        return ctx.summary

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        raise NotImplementedError

    def count_records(self, path: Path) -> int | None:
        """How many records the file holds, found cheaply, or None."""
        return None

    def fetch_urls(self, ids: list[str]) -> list[tuple[str, str]]:
        """(file name, URL) to download for these identifiers; ImportFailed
        for an identifier of the wrong form."""
        raise NotImplementedError

    def download(self, ids: list[str], folder: Path) -> list[Path]:
        """Save the records of ``ids`` in ``folder``; ImportFailed if one fails."""
        paths = []
        for name, url in self.fetch_urls(ids):
            path = folder / name
            request = Request(url, headers={"User-Agent": FETCH_AGENT})
            try:
                with urlopen(request, timeout=FETCH_TIMEOUT) as response:
                    path.write_bytes(response.read(FETCH_LIMIT + 1))
            except (OSError, ValueError) as error:  # URLError is an OSError
                reason = getattr(error, "reason", None) or error
                raise ImportFailed(
                    f"Could not download {url} ({reason}). Nothing was written; "
                    "save the records as a file and import that instead."
                ) from None
            if path.stat().st_size > FETCH_LIMIT:
                raise ImportFailed(
                    f"{url} sent more than {FETCH_LIMIT // 1_000_000} MB; fetch "
                    "fewer records at a time. Nothing was written."
                )
            paths.append(path)
        return paths
