"""The curated data set in fixtures/: loading it, cheaply.

Django's loaddata looks natural keys up one at a time: a row's own (does it
exist?), each of its foreign keys', and building a new row's natural key
fetches the rows it points to, one by one. For the ~3,000 rows of the shipped
data that was ~9,400 SELECTs. Within natural_keys_read_once() the
deserializer instead reads each table it meets once and learns the rows it
saves, so a load runs one SELECT a table and one INSERT (or UPDATE) a row.
"""

import io
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from django.apps import apps
from django.core.management import CommandError, call_command
from django.core.serializers import base
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.db.models.signals import post_save

from her2db.operations import current_id
from therapies.checks import approved_without_approval

# Loaded in this order, all or nothing. Trial results have a file of their
# own (the rest of each app is in the app's file), so that entering outcomes
# and curating the rest touch different files.
FIXTURES = ["references.json", "therapies.json", "outcomes.json"]
OWN_FILE = {"outcomes.json": ["therapies.Outcome", "therapies.OutcomeArmResult"]}


def fixture_files() -> dict[str, list[str]]:
    """Each fixture file with the models it holds (dump_curated writes them)."""
    from therapies.groups import curated_labels

    apart = {label for labels in OWN_FILE.values() for label in labels}
    files = {}
    for name in FIXTURES:
        if name in OWN_FILE:
            files[name] = OWN_FILE[name]
        else:
            app_label = name.removesuffix(".json")
            files[name] = [m for m in curated_labels(app_label) if m not in apart]
    return files


def holds_rows(path: Path) -> bool:
    """A fixture file that is there and not an empty list (loaddata warns on one)."""
    return path.exists() and "".join(path.read_text(encoding="utf-8").split()) != "[]"


def load_curated_data(directory: Path, verbosity: int = 0) -> bool:
    """Create or update the rows of the fixtures in directory by their natural
    keys, and give each newly loaded record its first history entry. False if
    there are no fixtures there."""
    paths = [directory / name for name in FIXTURES if holds_rows(directory / name)]
    if not paths:
        return False
    with transaction.atomic(), natural_keys_read_once():
        call_command("loaddata", *map(str, paths), verbosity=verbosity)
        # Rows loaded wholesale keep the rule the admin and the API hold.
        broken = list(approved_without_approval())
        if broken:
            raise CommandError(f"{'; '.join(broken)}; nothing was loaded.")
        # Its "existing history found" lines are noise on every later run.
        call_command("populate_history", auto=True, stdout=io.StringIO())
        name_the_load()
        snapshot_links()
    return True


LOADED = "loaded from fixtures"


def name_the_load() -> None:
    """Say on the first history rows this operation wrote where they came from,
    so that history names the data load rather than an empty user and reason."""
    for model in apps.get_models():
        history = getattr(model, "history", None)
        if history is None or not hasattr(history, "model"):
            continue
        history.filter(
            Q(history_change_reason__isnull=True) | Q(history_change_reason=""),
            operation=current_id(),
            history_user__isnull=True,
        ).update(history_change_reason=LOADED)


def snapshot_links() -> None:
    """Give the first history rows this operation wrote their many-to-many links.

    populate_history writes a record's fields but not the links its history
    keeps (a claim's agents and trials, a mechanism's genes); without them a
    record's first real change would report every link as changed.
    """
    for model in apps.get_models():
        history = getattr(model, "history", None)
        fields = getattr(getattr(history, "model", None), "_history_m2m_fields", ())
        for field in fields:
            snapshot = getattr(history.model, field.name).model
            snapshot_of = next(  # the snapshot's link to its history row
                f for f in snapshot._meta.fields if f.related_model is history.model
            )
            through = field.remote_field.through
            source = field.m2m_field_name()
            rows = history.filter(history_type="+", operation=current_id()).exclude(
                **{f"{snapshot_of.related_query_name()}__isnull": False}
            )
            links = through.objects.filter(**{f"{source}__in": rows.values("id")})
            columns = [f.attname for f in through._meta.concrete_fields]
            by_record = {}
            for link in links.values(*columns):
                by_record.setdefault(link[f"{source}_id"], []).append(link)
            snapshot.objects.bulk_create(
                snapshot(**{snapshot_of.name: row}, **link)
                for row in rows
                for link in by_record.get(row.id, ())
            )


def _by_natural_key(model) -> bool:
    return hasattr(model._default_manager, "get_by_natural_key") and hasattr(
        model, "natural_key"
    )


class _NaturalKeys:
    """Every row of the tables met so far, by primary key and natural key."""

    def __init__(self, using: str):
        self.using = using
        self.rows = {}  # model: {pk: instance}
        self.pks = {}  # model: {natural key: pk}

    def table(self, model) -> dict:
        if model not in self.pks:
            self.pks[model] = {}  # a tree's parent is in its own table
            for field in self._links(model):
                self.table(field.related_model)
            rows = list(model._default_manager.db_manager(self.using).all())
            self.rows[model] = {row.pk: row for row in rows}
            for row in rows:
                self.link(row)
            self.pks[model] = {row.natural_key(): row.pk for row in rows}
        return self.pks[model]

    @staticmethod
    def _links(model):
        return [
            field
            for field in model._meta.concrete_fields
            if field.many_to_one
            and _by_natural_key(field.related_model)
            and field.target_field.primary_key
        ]

    def link(self, instance) -> None:
        """Point instance's foreign keys at the rows read, so that its
        natural key is computed without fetching them."""
        for field in self._links(type(instance)):
            target = self.rows.get(field.related_model, {}).get(
                getattr(instance, field.attname)
            )
            if target is not None:
                field.set_cached_value(instance, target)

    def build_instance(self, original, Model, data, db):
        pk = Model._meta.pk
        if db != self.using or data.get(pk.attname) is not None:
            return original(Model, data, db)
        if not _by_natural_key(Model) or pk.remote_field:
            return original(Model, data, db)
        table = self.table(Model)
        instance = Model(**data)
        self.link(instance)
        existing = table.get(instance.natural_key())
        if existing is not None:
            instance.pk = existing
        return instance

    def deserialize_fk_value(
        self, original, field, value, using, handle_forward_references
    ):
        model = field.remote_field.model
        if (
            using == self.using
            and isinstance(value, list | tuple)
            and _by_natural_key(model)
            and not model._meta.pk.remote_field
            and field.remote_field.field_name == model._meta.pk.name
        ):
            pk = self.table(model).get(tuple(value))
            if pk is not None:
                return pk
        # Not there: Django's own look-up, and its error or deferral.
        return original(field, value, using, handle_forward_references)

    def saved(self, sender, instance, raw=False, using=None, **kwargs):
        if raw and using == self.using and sender in self.pks:
            self.link(instance)
            self.rows[sender][instance.pk] = instance
            self.pks[sender][instance.natural_key()] = instance.pk


@contextmanager
def natural_keys_read_once(using: str = DEFAULT_DB_ALIAS):
    """Within it, deserializing (loaddata, serializers.deserialize) finds
    rows by natural key in memory: each table is read once, at first use, and
    the rows saved raw (as loaddata saves them) are added as they are saved.

    For loads that nothing else writes to meanwhile; it replaces two functions
    of django.core.serializers.base for the whole process while it lasts."""
    keys = _NaturalKeys(using)
    build_instance, deserialize_fk_value = (
        base.build_instance,
        base.deserialize_fk_value,
    )
    base.build_instance = partial(keys.build_instance, build_instance)
    base.deserialize_fk_value = partial(keys.deserialize_fk_value, deserialize_fk_value)
    post_save.connect(keys.saved, weak=False, dispatch_uid="natural_keys_read_once")
    try:
        yield
    finally:
        base.build_instance, base.deserialize_fk_value = (
            build_instance,
            deserialize_fk_value,
        )
        post_save.disconnect(dispatch_uid="natural_keys_read_once")
