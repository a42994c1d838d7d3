"""The base serializers of curated resources and of the rows they own."""

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

from .fields import (
    STRICT_TEXT_FIELDS,
    StrictCharField,
    StrictEmailField,
    StrictSlugField,
    StrictURLField,
)
from .validation import full_clean


def _key_value(value):
    if hasattr(value, "_meta"):
        return value.pk
    if isinstance(value, str):
        return value.casefold()
    return value


# Fields whose representation of a model's value is the value itself.
PLAIN_FIELDS = {
    serializers.BooleanField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.IntegerField,
    serializers.SlugField,
    serializers.URLField,
    StrictCharField,
    StrictSlugField,
    StrictURLField,
    StrictEmailField,
}
_MISSING = object()
CHANGE_REASON = "X-Change-Reason"


def change_reason(request) -> str:
    """Why the client makes its change (the X-Change-Reason header), or ""."""
    reason = request.headers.get(CHANGE_REASON, "") if request else ""
    return reason.replace("\x00", "").strip()[:1000]


def utc_stamp(value) -> str:
    """A UTC datetime as DRF's DateTimeField writes it in ISO 8601."""
    return value.isoformat().removesuffix("+00:00") + "Z"


class PlainFieldsMixin:
    """DRF's `to_representation`, with a short cut for plain columns.

    For a CharField, IntegerField, BooleanField or ChoiceField reading a model
    attribute, DRF's generic path (get_attribute, to_representation, the None
    check) returns the value unchanged but costs several microseconds a field,
    which adds up over a page of rows. Those values are copied directly;
    every other field goes through DRF as usual. A test checks that both
    paths give the same JSON for every serializer.
    """

    def to_representation(self, instance):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self._plan = [
                (field.field_name, *self.short_cut(field), field)
                for field in self._readable_fields
            ]
        data = {}
        for name, attribute, stamp, field in plan:
            if attribute is not None:
                value = getattr(instance, attribute, _MISSING)
                if value is None:
                    data[name] = None
                    continue
                if stamp and value is not _MISSING and not value.utcoffset():
                    # As DateTimeField writes a UTC time in ISO 8601.
                    data[name] = utc_stamp(value)
                    continue
                if not stamp and value is not _MISSING and not callable(value):
                    data[name] = value
                    continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            data[name] = None if value is None else field.to_representation(value)
        return data

    @staticmethod
    def short_cut(field) -> tuple[str | None, bool]:
        """(model attribute to copy, whether it is a UTC timestamp), or (None, _)."""
        if len(field.source_attrs) != 1:
            return None, False
        if type(field) in PLAIN_FIELDS:
            return field.source_attrs[0], False
        if (
            type(field) is serializers.DateTimeField
            and getattr(field, "format", ISO_8601) == ISO_8601
            and api_settings.DATETIME_FORMAT == ISO_8601
            and not hasattr(field, "timezone")
            and timezone.get_current_timezone_name() == "UTC"
        ):
            return field.source_attrs[0], True
        return None, False


# Model text columns take JSON strings only (her2db/api/fields.py, TextOnly).
TEXT_ONLY_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    **STRICT_TEXT_FIELDS,
}


class RowSerializer(PlainFieldsMixin, serializers.ModelSerializer):
    """A row that another object owns (an agent's target, a trial's arm)."""

    serializer_field_mapping = TEXT_ONLY_MAPPING


class CuratedSerializer(PlainFieldsMixin, serializers.ModelSerializer):
    """A ModelSerializer that checks every model rule and writes relations.

    DRF validates fields one by one; here the model's `full_clean()` also
    runs (its `clean()` and its database constraints), so a bad write gets a
    400 naming the field rather than an IntegrityError. Rows the object owns
    (an agent's targets, a trial's arms) are written as a list that replaces
    the current one: rows are matched on `row_keys`, changed in place, added
    or removed, and each is checked the same way.
    """

    serializer_field_mapping = TEXT_ONLY_MAPPING
    # source: (foreign key to this object, fields that identify a row)
    owned_rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    # many-to-many relations written with .set()
    many_to_many: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        names = self.api_names()
        full_clean(self.candidate(attrs), self.unchecked(), names)
        errors = {}
        for source, (parent_field, keys) in self.owned_rows.items():
            if source in attrs:
                row_errors = self.check_rows(source, parent_field, keys, attrs[source])
                if row_errors:
                    errors[names.get(source, source)] = row_errors
        if not errors:
            errors = self.record_problems(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def record_problems(self, attrs) -> dict:
        """Rules the record keeps with its rows (therapies/rules.py), by field."""
        return {}

    def rows_after(self, source, attrs) -> list:
        """The rows of `source` as this write leaves them: the ones written,
        or the stored ones when the write leaves them alone."""
        if source in attrs:
            return attrs[source]
        if self.instance is None:
            return []
        return list(getattr(self.instance, source).all())

    def api_names(self) -> dict[str, str]:
        return {
            f.source: name
            for name, f in self.fields.items()
            if f.source and f.source != "*"
        }

    def candidate(self, attrs):
        """The object as it would be saved, without touching the real one."""
        model = self.Meta.model
        instance = model()
        if self.instance is not None:
            for field in model._meta.concrete_fields:
                setattr(instance, field.attname, getattr(self.instance, field.attname))
            instance._state.adding = False
        concrete = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        return instance

    def unchecked(self) -> list[str]:
        return [
            f.name
            for f in self.Meta.model._meta.get_fields()
            if f.many_to_many or f.one_to_many
        ]

    def row_model(self, source):
        return getattr(self.Meta.model, source).rel.related_model

    def current_rows(self, source, parent_field, keys) -> dict:
        if self.instance is None:
            return {}
        model = self.row_model(source)
        rows = model._default_manager.filter(**{parent_field: self.instance})
        return {self.row_key(model, keys, row): row for row in rows}

    @staticmethod
    def row_key(model, keys, row) -> tuple:
        if isinstance(row, dict):
            return tuple(_key_value(row.get(k)) for k in keys)
        return tuple(
            _key_value(getattr(row, model._meta.get_field(k).attname)) for k in keys
        )

    def check_rows(self, source, parent_field, keys, items) -> dict:
        """Errors of each wrong row, by its position in the list (as DRF does)."""
        model = self.row_model(source)
        current = self.current_rows(source, parent_field, keys)
        seen, errors = set(), {}
        for index, item in enumerate(items):
            key = self.row_key(model, keys, item)
            if key in seen:
                errors[index] = {
                    api_settings.NON_FIELD_ERRORS_KEY: ["This is listed twice."]
                }
                continue
            seen.add(key)
            row = current.get(key) or model()
            for name, value in item.items():
                if not model._meta.get_field(name).many_to_many:
                    setattr(row, name, value)
            exclude = [parent_field] + [
                f.name for f in model._meta.get_fields() if f.many_to_many
            ]
            try:
                full_clean(row, exclude)
            except serializers.ValidationError as error:
                errors[index] = error.detail
        return errors

    def create(self, validated_data):
        related = self.pop_related(validated_data)
        instance = self.Meta.model(**validated_data)
        self.give_reason(instance)
        instance.save()
        self.save_related(instance, related)
        return instance

    def update(self, instance, validated_data):
        """Write what differs: a save that changes nothing would still add a
        history row (and a change-feed entry), so the object is saved only
        when one of its own fields changes, and each owned row likewise."""
        related = self.pop_related(validated_data)
        changed = {
            name: value
            for name, value in validated_data.items()
            if getattr(instance, name) != value
        }
        for name, value in changed.items():
            setattr(instance, name, value)
        if changed:
            self.give_reason(instance)
            instance.save()
        self.save_related(instance, related)
        return instance

    def give_reason(self, instance) -> None:
        """The X-Change-Reason header, kept in the history as the admin's is."""
        reason = change_reason(self.context.get("request"))
        if reason:
            instance._change_reason = reason

    def pop_related(self, validated_data) -> dict:
        return {
            name: validated_data.pop(name)
            for name in [*self.owned_rows, *self.many_to_many]
            if name in validated_data
        }

    def save_related(self, instance, related: dict) -> None:
        for source, value in related.items():
            if source in self.many_to_many:
                getattr(instance, source).set(value)
            else:
                self.save_rows(instance, source, value)

    def save_rows(self, instance, source, items) -> None:
        parent_field, keys = self.owned_rows[source]
        model = self.row_model(source)
        self.instance = instance
        current = self.current_rows(source, parent_field, keys)
        wanted = {self.row_key(model, keys, item): item for item in items}
        # Removals first, so that a row re-added under a new key cannot clash.
        for key, row in current.items():
            if key not in wanted:
                row.delete()
        for key, item in wanted.items():
            item = dict(item)
            links = {
                name: item.pop(name)
                for name in list(item)
                if model._meta.get_field(name).many_to_many
            }
            row = current.get(key)
            if row is None:
                row = model(**{parent_field: instance}, **item)
                row.save()
            elif any(getattr(row, name) != value for name, value in item.items()):
                for name, value in item.items():
                    setattr(row, name, value)
                row.save()
            for name, value in links.items():
                getattr(row, name).set(value)
