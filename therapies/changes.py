"""The change feed: one ChangeEntry per change to public data.

Written from django-simple-history's post_create_historical_record signal, so
that every path that records history (admin, API, importers, transitions)
feeds it, and from bulk_history_created for the rows importers insert in
bulk. Changes that never were public (a draft's edits) are not written;
a claim leaving the accepted state is reported as withdrawn ("deleted").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import prefetch_related_objects

from references.importers.sql import insert_rows
from references.models import Author, Citation, CitationAuthor

from .models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    ChangeEntry,
    Evidence,
    EvidenceCitation,
    Mechanism,
    Target,
    Trial,
    TrialArm,
)

# Resources and how a program names them.
RESOURCES = {
    Citation: ("citation", lambda o: o.citekey),
    Author: ("author", lambda o: str(o)),
    Target: ("target", lambda o: o.symbol),
    Agent: ("agent", lambda o: o.slug),
    Mechanism: ("mechanism", lambda o: o.slug),
    Trial: ("trial", lambda o: o.nct_id),
    Evidence: ("evidence", lambda o: str(o.uid)),
}
# Rows edited as part of a parent: (parent attribute, field name in the feed).
CHILDREN = {
    CitationAuthor: ("citation", "authors"),
    AgentAlias: ("agent", "aliases"),
    AgentTarget: ("agent", "targets"),
    Approval: ("agent", "approvals"),
    TrialArm: ("trial", "arms"),
    EvidenceCitation: ("evidence", "citations"),
}
ACTIONS = {"+": ChangeEntry.Action.CREATED, "~": ChangeEntry.Action.UPDATED}
ACCEPTED = Evidence.Status.ACCEPTED
SAME_MOMENT = timedelta(seconds=2)


def born_together(parent, history_instance) -> bool:
    """Was the row added as part of creating its parent (one form, one import)?"""
    created = getattr(parent, "created_at", None)
    return (
        created is not None
        and abs(history_instance.history_date - created) < SAME_MOMENT
    )


def changed_fields(history_instance, previous) -> list[str]:
    if history_instance.history_type != "~" or previous is None:
        return []
    delta = history_instance.diff_against(previous)
    return sorted(change.field for change in delta.changes)


def entry_for(instance, history_instance) -> ChangeEntry | None:
    model = type(instance)
    kind_type = history_instance.history_type
    if model in CHILDREN:
        attribute, field = CHILDREN[model]
        try:
            parent = getattr(instance, attribute)
        except Exception:  # the parent is being deleted with its children
            return None
        if isinstance(parent, Evidence) and parent.status != ACCEPTED:
            return None
        if kind_type == "+" and born_together(parent, history_instance):
            return None  # the parent's own "created" entry covers its first rows
        kind, name = RESOURCES[type(parent)]
        return ChangeEntry(
            kind=kind,
            identifier=name(parent),
            action=ChangeEntry.Action.UPDATED,
            changed_at=history_instance.history_date,
            fields=[field],
        )
    if model not in RESOURCES:
        return None
    kind, name = RESOURCES[model]
    action = ACTIONS.get(kind_type, ChangeEntry.Action.DELETED)
    # A creation has nothing before it: skip the look-up (imports create many).
    previous = history_instance.prev_record if kind_type != "+" else None
    fields = changed_fields(history_instance, previous)
    if model is Evidence:
        was_public = previous is not None and previous.status == ACCEPTED
        is_public = kind_type != "-" and instance.status == ACCEPTED
        if not (was_public or is_public):
            return None
        if is_public and not was_public:
            action, fields = ChangeEntry.Action.CREATED, []
        elif was_public and not is_public:
            action, fields = ChangeEntry.Action.DELETED, []
    return ChangeEntry(
        kind=kind,
        identifier=name(instance),
        action=action,
        changed_at=history_instance.history_date,
        fields=fields,
    )


def record_change(sender, instance, history_instance, using=None, **kwargs):
    entry = entry_for(instance, history_instance)
    if entry is not None:
        entry.save(using=using)


def record_changes(sender, instances, history_date, using=None, **kwargs):
    """The change feed's entries for a bulk insert, in one query."""
    created = Created(history_date)
    if sender in CHILDREN:
        # The rows of one parent make one entry ("authors" changed), not one
        # a row.
        parent = sender._meta.get_field(CHILDREN[sender][0])
        firsts = {}
        for instance in instances:
            firsts.setdefault(getattr(instance, parent.attname), instance)
        instances = list(firsts.values())
        prefetch_related_objects(instances, parent.name)  # one query, not one a row
    entries = (entry_for(instance, created) for instance in instances)
    insert_rows(ChangeEntry, [e for e in entries if e is not None], using)


@dataclass(frozen=True)
class Created:
    """The "created" history row of each object of a bulk insert."""

    history_date: datetime
    history_type: str = "+"
