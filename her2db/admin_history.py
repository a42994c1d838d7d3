"""Whole reverts and readable history: a record with the rows it owns.

A record owns the rows that cascade with it and keep a history of their own
(an agent's aliases, targets and approvals; a trial's arms; a citation's
authors; a claim's citations), and it keeps its many-to-many links in its own
history (a claim's agents and trials, a mechanism's genes). "The record as it
was at a version" is the state at the end of the operation that wrote that
version, rebuilt from those history tables: every history row carries the
operation that wrote it and its date.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import CASCADE, Q
from simple_history.utils import get_m2m_reverse_field_name

# Bookkeeping columns a revert leaves alone.
_STAMPS = {"created_at", "updated_at"}


def owned_relations(model) -> list:
    """The reverse relations whose rows this model owns and whose history is kept."""
    return [
        relation
        for relation in model._meta.related_objects
        if relation.on_delete is CASCADE and hasattr(relation.related_model, "history")
    ]


def noun(child, parent) -> str:
    """ "alias" for an agent's AgentAlias, "arm" for a trial's TrialArm."""
    name = str(child._meta.verbose_name)
    prefix = f"{parent._meta.verbose_name} "
    return name[len(prefix) :] if name.startswith(prefix) else name


def window(record) -> Q:
    """History rows that make up the state at the end of `record`'s operation.

    Those written up to the record, and those its operation wrote after it
    (an admin save writes the record first, its inline rows next), up to the
    record's next version from another operation.
    """
    q = Q(history_date__lte=record.history_date)
    if record.operation:
        same = Q(operation=record.operation)
        later = (
            type(record)
            .objects.filter(id=record.id, history_date__gt=record.history_date)
            .exclude(operation=record.operation)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        )
        if later:
            same &= Q(history_date__lt=later)
        q |= same
    return q


def effective_record(record):
    """The record's last version within its operation: its links as they ended."""
    return (
        type(record)
        .objects.filter(id=record.id)
        .filter(window(record))
        .order_by("-history_date", "-history_id")
        .first()
    ) or record


def rows_at(relation, parent_pk, record) -> dict:
    """The owned rows alive at that version, as their last history records."""
    child = relation.related_model
    latest = {}
    history = (
        child.history.filter(**{relation.field.attname: parent_pk})
        .filter(window(record))
        .order_by("history_date", "history_id")
    )
    for row in history:
        latest[row.id] = row
    return {pk: row for pk, row in latest.items() if row.history_type != "-"}


def m2m_ids(record, m2m_field) -> set:
    """The ids a history record's many-to-many snapshot links to."""
    target = get_m2m_reverse_field_name(m2m_field)
    rows = getattr(record, m2m_field.name).all()
    return {getattr(row, f"{target}_id") for row in rows}


def _fields(model) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in _STAMPS
    ]


def _m2m_fields(model) -> list:
    return list(getattr(model.history.model, "_history_m2m_fields", []))


@dataclass
class Step:
    """One change a revert makes to an owned row or a link."""

    description: str
    run: object = None  # callable(user, reason)


@dataclass
class RevertPlan:
    """What reverting a record to a version does besides its own fields."""

    record: object
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Set when the revert became a revision instead (an accepted claim).
    proposed: object = None

    @property
    def descriptions(self) -> list[str]:
        return [step.description for step in self.steps]

    def apply(self, user, reason: str) -> None:
        """Run every step; RevertRefused (all rolled back) if one cannot be made."""
        failed = []
        with transaction.atomic():
            for step in self.steps:
                try:
                    with transaction.atomic():
                        step.run(user, reason)
                except (DatabaseError, ValidationError) as exc:
                    failed.append(f"{step.description}: {_reason(exc)}")
            if failed:
                raise RevertRefused(failed)

    def dry_run(self, user) -> None:
        """Find the steps the database would refuse, changing nothing."""
        try:
            with transaction.atomic():
                self.apply(user, "revert (trial run)")
                raise _RollBack
        except RevertRefused as refused:
            self.problems.extend(refused.problems)
        except _RollBack:
            pass


class RevertRefused(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class _RollBack(Exception):
    pass


def _reason(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _stamp(obj, user, reason):
    obj._history_user = user
    obj._change_reason = reason
    return obj


def _missing_targets(model, values: dict) -> list[str]:
    """Foreign keys of a row to restore that point at rows that are gone."""
    missing = []
    for f in model._meta.concrete_fields:
        if not f.is_relation or values.get(f.attname) is None:
            continue
        target = f.related_model
        if not target._default_manager.filter(pk=values[f.attname]).exists():
            missing.append(f"{f.verbose_name} #{values[f.attname]} no longer exists")
    return missing


def plan_revert(record) -> RevertPlan:
    """What bringing back a record's owned rows and links as at `record` takes."""
    model = record.instance_type
    parent_pk = record.id
    plan = RevertPlan(record)
    for relation in owned_relations(model):
        child = relation.related_model
        word = noun(child, model)
        then = rows_at(relation, parent_pk, record)
        now = {
            obj.pk: obj
            for obj in child._default_manager.filter(
                **{relation.field.attname: parent_pk}
            )
        }
        for pk, obj in now.items():
            if pk not in then:
                plan.steps.append(Step(f"{word} {obj} removed", _delete(obj)))
        for pk, row in then.items():
            values = {name: getattr(row, name) for name in _fields(child)}
            current = now.get(pk)
            if current is None:
                missing = _missing_targets(child, values)
                label = f"{word} {row.instance}"
                if missing:
                    plan.problems.append(
                        f"{label} cannot come back: {', '.join(missing)}."
                    )
                    continue
                plan.steps.append(Step(f"{label} added back", _create(row)))
            else:
                changed = [n for n, v in values.items() if getattr(current, n) != v]
                if changed:
                    names = ", ".join(n.removesuffix("_id") for n in changed)
                    then_label = str(row.instance)
                    to = f" to {then_label}" if then_label != str(current) else ""
                    plan.steps.append(
                        Step(
                            f"{word} {current} restored{to} ({names})",
                            _update(current, values),
                        )
                    )
            for m2m_field in _m2m_fields(child):
                wanted = m2m_ids(row, m2m_field)
                have = (
                    set(getattr(current, m2m_field.name).values_list("pk", flat=True))
                    if current
                    else set()
                )
                if wanted == have:
                    continue
                target = m2m_field.related_model
                found = set(
                    target._default_manager.filter(pk__in=wanted).values_list(
                        "pk", flat=True
                    )
                )
                if wanted - found:
                    plan.problems.append(
                        f"{word} {row.instance}: {m2m_field.name} "
                        f"#{', #'.join(map(str, sorted(wanted - found)))} "
                        "no longer exist."
                    )
                    continue
                plan.steps.append(
                    Step(
                        f"{word} {row.instance}: {m2m_field.name} restored",
                        _set_m2m(child, pk, m2m_field.name, wanted),
                    )
                )
    return plan


def _delete(obj):
    def run(user, reason):
        _stamp(obj, user, reason).delete()

    return run


def _create(row):
    def run(user, reason):
        _stamp(row.instance, user, reason).save(force_insert=True)

    return run


def _update(obj, values):
    def run(user, reason):
        for name, value in values.items():
            setattr(obj, name, value)
        _stamp(obj, user, reason).save()

    return run


def _set_m2m(child, pk, name, ids):
    def run(user, reason):
        obj = _stamp(child._default_manager.get(pk=pk), user, reason)
        getattr(obj, name).set(ids)

    return run


def m2m_at(record) -> dict[str, set]:
    """A record's many-to-many links as they were at the end of its operation."""
    last = effective_record(record)
    return {f.name: m2m_ids(last, f) for f in _m2m_fields(record.instance_type)}


def missing_links(record) -> list[str]:
    """Links of that version whose other end has been deleted since."""
    problems = []
    model = record.instance_type
    for name, ids in m2m_at(record).items():
        target = model._meta.get_field(name).related_model
        found = set(
            target._default_manager.filter(pk__in=ids).values_list("pk", flat=True)
        )
        if ids - found:
            problems.append(
                f"{name}: #{', #'.join(map(str, sorted(ids - found)))} "
                "no longer exist and cannot be linked again."
            )
    return problems


# The history page: the record's changes and its owned rows', by operation.


@dataclass
class Entry:
    """What one operation changed in a record and the rows it owns."""

    date: object
    operation: object = None
    users: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    # The owned rows' changes alone, shown beside the record's own.
    owned: list = field(default_factory=list)

    def note(self, row, change: str, owned: bool) -> None:
        self.date = min(self.date, row.history_date)
        user = row.history_user
        if user and user not in self.users:
            self.users.append(user)
        reason = row.history_change_reason
        if reason and reason not in self.reasons:
            self.reasons.append(reason)
        if change:
            self.changes.append(change)
            if owned:
                self.owned.append(change)


def _describe(row, previous, word: str) -> str:
    if row.history_type == "+":
        return f"{word} {row.instance} added" if word else "created"
    if row.history_type == "-":
        return f"{word} {row.instance} removed" if word else "deleted"
    if previous is None:
        return f"{word} {row.instance} changed" if word else "changed"
    delta = row.diff_against(previous, excluded_fields=_STAMPS)
    if not delta.changes:
        return ""
    parts = []
    m2m = {f.name for f in getattr(row, "_history_m2m_fields", [])}
    for change in delta.changes:
        if change.field in m2m:
            parts.append(change.field)
        else:
            parts.append(f"{change.field}: {change.old!r} → {change.new!r}")
    if word:
        return f"{word} {previous.instance} changed ({'; '.join(parts)})"
    return f"changed {'; '.join(parts)}"


def timeline(model, pk) -> list[Entry]:
    """Every change to the record and its owned rows, one entry per operation."""
    entries: dict = {}

    def entry_for(row) -> Entry:
        key = row.operation or ("row", type(row), row.history_id)
        if key not in entries:
            entries[key] = Entry(date=row.history_date, operation=row.operation)
        return entries[key]

    sources = [(model.history.filter(id=pk), "")]
    for relation in owned_relations(model):
        child = relation.related_model
        sources.append(
            (
                child.history.filter(**{relation.field.attname: pk}),
                noun(child, model),
            )
        )
    for history, word in sources:
        previous = defaultdict(lambda: None)
        rows = history.select_related("history_user").order_by(
            "history_date", "history_id"
        )
        for row in rows:
            change = _describe(row, previous[row.id], word)
            entry_for(row).note(row, change, owned=bool(word))
            previous[row.id] = row
    return sorted(entries.values(), key=lambda e: e.date, reverse=True)
