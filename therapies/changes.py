"""The change feed: one ChangeEntry per change to public data.

Written from django-simple-history's post_create_historical_record signal, so
that every path that records history (admin, API, importers, transitions)
feeds it, and from bulk_history_created for the rows importers insert in
bulk. Changes that never were public (a draft's edits) are not written;
a claim leaving the accepted state is reported as withdrawn ("deleted").
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import prefetch_related_objects

from her2db import operations
from her2db.registry import registry
from references.importers.sql import insert_rows

from .models import ChangeEntry

ACTIONS = {"+": ChangeEntry.Action.CREATED, "~": ChangeEntry.Action.UPDATED}


def born_together(parent) -> bool:
    """Was the row added by the operation that created its parent?

    One form with its inlines, one API call with nested rows, one import.
    """
    return (parent._meta.label_lower, parent.pk) in operations.current().created


def changed_fields(history_instance, previous) -> list[str]:
    if history_instance.history_type != "~" or previous is None:
        return []
    delta = history_instance.diff_against(previous)
    return sorted(change.field for change in delta.changes)


def entry_for(instance, history_instance) -> ChangeEntry | None:
    resource = registry.find(instance)
    kind_type = history_instance.history_type
    if resource is None:
        return None
    if kind_type == "+":
        operations.current().created.add((resource.label, instance.pk))
    if resource.feed_field:
        try:
            parent = resource.owner_of(instance)
        except Exception:  # the parent is being deleted with its children
            return None
        if not registry.is_public(parent):
            return None
        if kind_type == "+" and born_together(parent):
            return None  # the parent's own "created" entry covers its first rows
        owner = registry.get(parent)
        return ChangeEntry(
            kind=owner.kind,
            identifier=owner.identify(parent),
            action=ChangeEntry.Action.UPDATED,
            changed_at=history_instance.history_date,
            fields=[resource.feed_field],
        )
    if not resource.kind:
        return None
    action = ACTIONS.get(kind_type, ChangeEntry.Action.DELETED)
    # A creation has nothing before it: skip the look-up (imports create many).
    previous = history_instance.prev_record if kind_type != "+" else None
    fields = changed_fields(history_instance, previous)
    if resource.public:
        was_public = previous is not None and registry.is_public(
            previous, resource.model
        )
        is_public = kind_type != "-" and registry.is_public(instance)
        if not (was_public or is_public):
            return None
        if is_public and not was_public:
            action, fields = ChangeEntry.Action.CREATED, []
        elif was_public and not is_public:
            action, fields = ChangeEntry.Action.DELETED, []
    if action == ChangeEntry.Action.UPDATED and not fields:
        return None  # saved, but nothing a reader sees changed
    return ChangeEntry(
        kind=resource.kind,
        identifier=resource.identify(instance),
        action=action,
        changed_at=history_instance.history_date,
        fields=fields,
    )


def record_change(sender, instance, history_instance, using=None, **kwargs):
    entry = entry_for(instance, history_instance)
    if entry is None:
        return
    if entry.action == ChangeEntry.Action.UPDATED:
        # A record changed by one operation (a form with inlines, an accepted
        # revision) is one update listing everything that changed.
        earlier = (
            ChangeEntry.objects.using(using)
            .filter(
                operation=entry.operation,
                kind=entry.kind,
                identifier=entry.identifier,
            )
            .first()
        )
        if earlier is not None:
            if earlier.action == ChangeEntry.Action.UPDATED:
                earlier.fields = sorted(set(earlier.fields) | set(entry.fields))
                earlier.save(using=using, update_fields=["fields"])
            return
    entry.save(using=using)


def record_changes(sender, instances, history_date, using=None, **kwargs):
    """The change feed's entries for a bulk insert, in one query."""
    created = Created(history_date)
    resource = registry.find(sender)
    if resource is not None and resource.feed_field:
        # The rows of one parent make one entry ("authors" changed), not one
        # a row.
        parent = sender._meta.get_field(resource.owner)
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
