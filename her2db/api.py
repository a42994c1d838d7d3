"""What every resource of the JSON API (/api/v1/) shares.

DRF does most of the work; this module adds what it lacks: conditional
requests (ETag, If-None-Match, If-Match), model validation and database
constraints turned into 400s, protected deletes turned into 409s, a
deterministic order under every page, full-text search, and the error
responses in the OpenAPI schema.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpResponseNotModified, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from drf_spectacular import openapi
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import ISO_8601, exceptions, renderers, serializers, viewsets
from rest_framework import status as http
from rest_framework.fields import SkipField
from rest_framework.generics import get_object_or_404
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .api_defaults import JSONRenderer, dump_json

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CONDITIONAL_WRITES = ("PUT", "PATCH", "DELETE", "POST")


# --- Links ----------------------------------------------------------------------


def resource_url(request, basename: str, key) -> str:
    """Absolute URL of one resource; each list prefix is reversed once a request."""
    if request is None:
        return f"/api/v1/{basename}/{key}/"
    prefixes = request.__dict__.setdefault("_her2db_prefixes", {})
    prefix = prefixes.get(basename)
    if prefix is None:
        prefix = prefixes[basename] = request.build_absolute_uri(
            reverse(f"{basename}-list")
        )
    return f"{prefix}{key}/"


class LinkField(serializers.Field):
    """The API URL of the object itself, built from its natural key."""

    def __init__(self, basename: str, key: str, **kwargs):
        self.basename, self.key = basename, key
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return resource_url(
            self.context.get("request"), self.basename, getattr(value, self.key)
        )


# Tell the schema generator that a LinkField is a URI.
class _LinkFieldExtension(OpenApiSerializerFieldExtension):
    target_class = LinkField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "uri", "readOnly": True}


# --- Prefetched relations ----------------------------------------------------

PREFETCHED = "prefetched_{}"


def prefetched(lookup: str, queryset=None) -> Prefetch:
    """Prefetch `lookup` into a plain list, `prefetched_<lookup>`.

    Django otherwise builds a related manager and a filtered queryset for
    every row to hold its prefetched objects, which costs more than the query.
    Nested serializers and relation fields read the list when it is there.
    """
    return Prefetch(lookup, queryset=queryset, to_attr=PREFETCHED.format(lookup))


class FromPrefetch:
    """Read a to-many relation from its `prefetched()` list when there is one."""

    def get_attribute(self, instance):
        try:
            return instance.__dict__[PREFETCHED.format(self.source)]
        except KeyError:
            return super().get_attribute(instance)


class PrefetchedListSerializer(FromPrefetch, serializers.ListSerializer):
    pass


class PrefetchedManyRelatedField(FromPrefetch, serializers.ManyRelatedField):
    pass


# --- Summaries of related resources ------------------------------------------


class Summary(serializers.Serializer):
    """A related resource in brief: its identifier, a name or two, and its URL.

    Subclasses declare their fields (for the schema) and `basename`, `key`
    and `names`; `to_representation` is written out because summaries are
    the innermost loop of every list.
    """

    basename: str
    key: str
    names: tuple[str, ...]

    class Meta:
        list_serializer_class = PrefetchedListSerializer

    def to_representation(self, instance):
        prefix = self.__dict__.get("_prefix")
        if prefix is None:
            prefix = self._prefix = resource_url(
                self.context.get("request"), self.basename, ""
            ).removesuffix("/")
        data = {name: getattr(instance, name) for name in self.names}
        data["url"] = f"{prefix}{getattr(instance, self.key)}/"
        return data


class SummaryRelatedField(serializers.SlugRelatedField):
    """A relation read as a summary and written as the related object's identifier."""

    def __init__(self, summary: type[Summary], **kwargs):
        self.summary_class = summary
        kwargs.setdefault("slug_field", summary.key)
        super().__init__(**kwargs)

    @classmethod
    def many_init(cls, *args, **kwargs):
        child = cls(*args, **kwargs)
        keep = MANY_RELATION_KWARGS
        return PrefetchedManyRelatedField(
            child_relation=child, **{k: v for k, v in kwargs.items() if k in keep}
        )

    def to_internal_value(self, data):
        # PostgreSQL refuses NUL in text outright (a DataError, not a miss).
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)

    def to_representation(self, obj):
        summary = self.__dict__.get("_summary")
        if summary is None:
            summary = self._summary = self.summary_class(context=self.context)
        return summary.to_representation(obj)


class _SummaryFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SummaryRelatedField

    def map_serializer_field(self, auto_schema, direction):
        key = self.target.summary_class.key
        if direction == "request":
            schema = {"type": "string", "description": f"Identifier ({key})."}
        else:
            schema = auto_schema.resolve_serializer(
                self.target.summary_class, direction
            ).ref
        if self.target.allow_null:
            schema = {"oneOf": [schema], "nullable": True}
        return schema


# --- Validation -----------------------------------------------------------------


def constraint_fields(model) -> dict[str, str]:
    """Each constraint's violation message, with the one field it is about."""
    found = {}
    for constraint in model._meta.constraints:
        fields = set(getattr(constraint, "fields", ()) or ())
        for expression in getattr(constraint, "expressions", ()) or ():
            fields |= {
                ref.name
                for ref in getattr(expression, "get_source_expressions", list)()
                if hasattr(ref, "name")
            }
        condition = getattr(constraint, "condition", None)
        if condition is not None and not fields:
            fields = set(condition.referenced_base_fields)
        if len(fields) == 1:
            found[str(constraint.get_violation_error_message())] = fields.pop()
    return found


def drf_errors(
    error: DjangoValidationError, field_names: dict | None = None, model=None
) -> dict:
    """A Django ValidationError as DRF's {field: [messages]}, in API field names.

    A constraint about a single field is reported under that field.
    """
    field_names = field_names or {}
    by_message = constraint_fields(model) if model is not None else {}
    if not hasattr(error, "error_dict"):
        error = DjangoValidationError({NON_FIELD_ERRORS: error.messages})
    result = {}
    for field, errors in error.message_dict.items():
        for message in errors:
            about = (
                by_message.get(message, field) if field == NON_FIELD_ERRORS else field
            )
            key = (
                api_settings.NON_FIELD_ERRORS_KEY
                if about == NON_FIELD_ERRORS
                else field_names.get(about, about)
            )
            result.setdefault(key, []).append(message)
    return result


def full_clean(instance, exclude: Iterable[str] = (), field_names=None) -> None:
    """Run every model rule and constraint check, raising a DRF 400 on failure."""
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            drf_errors(error, field_names, type(instance))
        ) from None


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
}
_MISSING = object()
CHANGE_REASON = "X-Change-Reason"


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
                    data[name] = value.isoformat().removesuffix("+00:00") + "Z"
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


class RowSerializer(PlainFieldsMixin, serializers.ModelSerializer):
    """A row that another object owns (an agent's target, a trial's arm)."""


class CuratedSerializer(PlainFieldsMixin, serializers.ModelSerializer):
    """A ModelSerializer that checks every model rule and writes relations.

    DRF validates fields one by one; here the model's `full_clean()` also
    runs (its `clean()` and its database constraints), so a bad write gets a
    400 naming the field rather than an IntegrityError. Rows the object owns
    (an agent's targets, a trial's arms) are written as a list that replaces
    the current one: rows are matched on `row_keys`, changed in place, added
    or removed, and each is checked the same way.
    """

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
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

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
        related = self.pop_related(validated_data)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        self.give_reason(instance)
        instance.save()
        self.save_related(instance, related)
        return instance

    def give_reason(self, instance) -> None:
        """The X-Change-Reason header, kept in the history as the admin's is."""
        request = self.context.get("request")
        reason = request.headers.get(CHANGE_REASON, "") if request else ""
        reason = reason.replace("\x00", "").strip()
        if reason:
            instance._change_reason = reason[:1000]

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


# --- Viewsets -------------------------------------------------------------------


class PreconditionFailed(exceptions.APIException):
    status_code = http.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record changed since you read it (If-Match does not match its "
        "current ETag). Read it again, then repeat your change."
    )
    default_code = "precondition_failed"


def etag_of(body: bytes, media_type: str = "application/json") -> str:
    digest = hashlib.blake2b(digest_size=16)
    if media_type != "application/json":
        digest.update(media_type.encode() + b"\0")
    digest.update(body)
    return f'"{digest.hexdigest()}"'


def parse_etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def representation_etag(response) -> str:
    """The ETag of a response's representation, from the bytes clients receive.

    JSON and the browsable API share it (both show the same JSON); any other
    format (BibTeX, RIS, CSL-JSON) has its own.
    """
    renderer = response.accepted_renderer
    if isinstance(renderer, renderers.BrowsableAPIRenderer):
        return etag_of(dump_json(response.data))
    response.render()
    if isinstance(renderer, JSONRenderer):
        return etag_of(response.content)
    return etag_of(response.content, renderer.media_type)


class ConditionalGetMixin:
    """ETag on every 200 or 201, from the representation; 304 for a current
    If-None-Match. For any API view (a read-only one such as a change feed
    too), so that what the schema promises for every GET holds."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            response.status_code not in (200, 201)
            or request.method == "OPTIONS"
            or not isinstance(response, Response)
            or response.exception
        ):
            return response
        tag = representation_etag(response)
        response["ETag"] = tag
        if request.method in ("GET", "HEAD"):
            wanted = request.headers.get("If-None-Match", "")
            if wanted and (
                wanted.strip() == "*"
                or tag in [t.removeprefix("W/") for t in parse_etags(wanted)]
            ):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = tag
                patch_vary_headers(not_modified, ["Accept", "Authorization", "Cookie"])
                return not_modified
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response


class CuratedViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """A resource of curated data: conditional requests and safe writes.

    - Every 200 or 201 carries an ETag computed from the representation;
      a GET whose If-None-Match holds it gets 304.
    - PUT, PATCH, DELETE (and POST actions on one object) honour If-Match:
      the row is locked, its current representation compared, 412 if stale.
    - Writes run in one transaction, rolled back on any error; a delete that
      evidence (or anything else) still protects gets 409 naming the rows.
    - A write answers with the object as a GET would show it, and its ETag.
    """

    # Set by subclasses: lookup by natural key.
    lookup_value_regex = r"[^/]+"

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            self.in_write_transaction = True
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        # Errors are JSON whatever the client accepted (BibTeX has no error form).
        request = self.request
        if getattr(request, "accepted_renderer", None) is not None and not isinstance(
            request.accepted_renderer,
            (JSONRenderer, renderers.BrowsableAPIRenderer),
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().handle_exception(exc)
        # A refused write leaves nothing behind (the handler may still read).
        if getattr(self, "in_write_transaction", False):
            transaction.set_rollback(True)
        return response

    def get_object(self):
        """The object named in the URL (its natural key), from `get_queryset()`.

        Query-string filters do not apply to a single object. For a write the
        row is locked for the rest of the transaction, so that the ETag
        compared with If-Match is still current when the write happens.
        """
        writing = self.request.method in CONDITIONAL_WRITES
        queryset = self.get_queryset()
        if writing:
            queryset = queryset.select_for_update(of=("self",))
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        instance = get_object_or_404(queryset, **self.lookup_filter(value))
        self.check_object_permissions(self.request, instance)
        if writing:
            self.check_if_match(instance)
        return instance

    def lookup_filter(self, value: str) -> dict:
        return {self.lookup_field: value}

    def check_if_match(self, instance) -> None:
        wanted = self.request.headers.get("If-Match")
        if not wanted or wanted.strip() == "*":
            return
        current = etag_of(dump_json(self.get_serializer(instance).data))
        # If-Match compares strongly: a weak tag never matches.
        if current not in parse_etags(wanted):
            raise PreconditionFailed()

    def reread(self, instance):
        """The saved object as GET shows it (same annotations and prefetches)."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        data = self.get_serializer(self.reread(serializer.instance)).data
        return Response(data, status=http.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self.get_serializer(self.reread(serializer.instance)).data)


# --- Errors ---------------------------------------------------------------------


def dependants_of(error: ProtectedError | RestrictedError, request) -> list[dict]:
    """What still uses a row a client tried to delete, as resources it can look up."""
    found = {}
    objects = getattr(error, "protected_objects", None) or error.restricted_objects
    for obj in objects:
        resource = describe_dependant(obj, request)
        found.setdefault((resource["resource"], resource["identifier"]), resource)
    return sorted(found.values(), key=lambda r: (r["resource"], str(r["identifier"])))


# Through rows point at the object a reader cares about: an evidence item, a
# trial, an agent, a mechanism. Each entry: (attribute, resource, key).
_OWNERS = {
    "evidenceagent": ("evidence", "evidence", "uid"),
    "evidencecitation": ("evidence", "evidence", "uid"),
    "evidencetrial": ("evidence", "evidence", "uid"),
    "trialpublication": ("trial", "trials", "nct_id"),
    "trialarmagent": ("arm.trial", "trials", "nct_id"),
    "agenttarget": ("agent", "agents", "slug"),
    "approval": ("agent", "agents", "slug"),
    "mechanismgene": ("mechanism", "mechanisms", "slug"),
    "citationauthor": ("citation", "citations", "citekey"),
}
_RESOURCES = {
    "evidence": ("evidence", "uid"),
    "mechanism": ("mechanisms", "slug"),
    "trial": ("trials", "nct_id"),
    "agent": ("agents", "slug"),
    "citation": ("citations", "citekey"),
    "target": ("targets", "symbol"),
}


def describe_dependant(obj, request) -> dict:
    name = obj._meta.model_name
    if name in _OWNERS:
        path, resource, key = _OWNERS[name]
        for attribute in path.split("."):
            obj = getattr(obj, attribute)
    elif name in _RESOURCES:
        resource, key = _RESOURCES[name]
    else:
        return {"resource": name, "identifier": str(obj.pk), "url": None}
    identifier = str(getattr(obj, key))
    return {
        "resource": resource,
        "identifier": identifier,
        "url": resource_url(request, resource, identifier),
    }


def constraint_errors(error: IntegrityError) -> dict:
    """Name the rule a write broke, in the words of the model's constraint.

    PostgreSQL names the constraint; SQLite names a CHECK constraint, but for
    a UNIQUE one only the columns.
    """
    from django.apps import apps

    text = str(error)
    rules = []  # (name, columns, message, field) of every constraint
    for model in apps.get_models():
        about = constraint_fields(model)
        for constraint in model._meta.constraints:
            name = constraint.name % {
                "app_label": model._meta.app_label.lower(),
                "class": model.__name__.lower(),
            }
            message = str(constraint.get_violation_error_message())
            columns = {
                f"{model._meta.db_table}.{model._meta.get_field(f).column}"
                for f in getattr(constraint, "fields", ()) or ()
            }
            rules.append((name, columns, message, about.get(message)))
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                message = (
                    f"Another {model._meta.verbose_name} has this {field.verbose_name}."
                )
                column = f"{model._meta.db_table}.{field.column}"
                rules.append((None, {column}, message, field.name))
    unique = re.search(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)", text)
    columns = set(unique.group(1).split(", ")) if unique else None
    for name, rule_columns, message, field in sorted(
        rules, key=lambda rule: -len(rule[0] or "")
    ):
        if (name and name in text) or (columns and rule_columns == columns):
            key = field or api_settings.NON_FIELD_ERRORS_KEY
            return {key: [message]}
    return {
        api_settings.NON_FIELD_ERRORS_KEY: [
            "This change conflicts with data already stored "
            "(a duplicate or a broken rule); nothing was saved."
        ]
    }


def exception_handler(exc, context):
    """DRF's handler, plus the Django errors a write can raise."""
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(drf_errors(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        view = context.get("view")
        try:
            label = view.get_serializer_class().Meta.model._meta.verbose_name
        except AttributeError:
            label = "record"
        dependants = dependants_of(exc, request)
        counts = Counter(d["resource"] for d in dependants)
        users = ", ".join(f"{n} {resource}" for resource, n in sorted(counts.items()))
        return Response(
            {
                "detail": f"This {label} cannot be deleted while other records "
                f"use it ({users}). Remove those links first.",
                "dependants": dependants,
            },
            status=http.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(constraint_errors(exc))
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """404 outside any view: JSON for API clients, Django's page for the rest."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views import defaults

    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    from django.views import defaults

    return defaults.server_error(request)


# --- Search ---------------------------------------------------------------------

SEARCH_CONFIG = "english"
_WORD = re.compile(r"[^\W_]+")


def search_vector(groups):
    """A weighted tsvector over a model's columns, as its GIN index is built.

    `groups` is [(weight, [column, ...]), ...]; the migrations that create the
    indexes spell out the same expression, and a test checks they are used.
    """
    from django.contrib.postgres.search import SearchVector

    vector = None
    for weight, columns in groups:
        part = SearchVector(*columns, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


def search_query(text: str):
    """What a user typed: its words as typed, or as prefixes of indexed words."""
    from django.contrib.postgres.search import SearchQuery

    plain = SearchQuery(text, search_type="plain", config=SEARCH_CONFIG)
    words = [w for w in _WORD.findall(text) if len(w) <= 100][:12]
    if not words:
        return plain
    prefixes = " & ".join(f"{w}:*" for w in words)
    return plain | SearchQuery(prefixes, search_type="raw", config=SEARCH_CONFIG)


def search(
    queryset: QuerySet, text: str, groups, related: Iterable[tuple] = ()
) -> QuerySet:
    """Rows matching `text`, best first on PostgreSQL.

    PostgreSQL: full-text search on the weighted vector (GIN-indexed), ranked,
    with `related` = [(model, outer_field, [columns]), ...] matched through
    their own indexed vectors (an agent's aliases, a citation's authors).
    Elsewhere: every word must occur (case-insensitively) in some column.
    """
    text = text.strip()
    if not text:
        return queryset
    model = queryset.model
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchRank

        query = search_query(text)
        vector = search_vector(groups)
        if not related:
            matching = queryset.annotate(_search=vector).filter(_search=query)
        else:
            # A union of id sets, rather than OR, so each part uses its index.
            ids = model._default_manager.annotate(_search=vector).filter(_search=query)
            ids = ids.values("pk").order_by()
            for related_model, outer_field, columns in related:
                ids = ids.union(
                    related_model._default_manager.annotate(
                        _search=search_vector([("A", columns)])
                    )
                    .filter(_search=query)
                    .values(outer_field)
                    .order_by()
                )
            matching = queryset.filter(pk__in=ids)
        # Rank on the telling columns only (names, identifiers, titles): long
        # texts such as abstracts are matched through the index, but computing
        # their vectors again for every match to rank them costs seconds.
        telling = [group for group in groups if group[0] in "AB"] or groups
        rank = SearchRank(search_vector(telling), query)
        return matching.annotate(_rank=rank).order_by(
            "-_rank", *model._meta.ordering, "pk"
        )
    columns = [c for _, group in groups for c in group]
    for word in text.split()[:12]:
        match = Q()
        for column in columns:
            match |= Q(**{f"{column}__icontains": word})
        for related_model, outer_field, related_columns in related:
            inner = Q()
            for column in related_columns:
                inner |= Q(**{f"{column}__icontains": word})
            match |= Exists(
                related_model.objects.filter(inner, **{outer_field: OuterRef("pk")})
            )
        queryset = queryset.filter(match)
    return queryset


# --- OpenAPI --------------------------------------------------------------------


class _TokenScheme(OpenApiAuthenticationExtension):
    target_class = "her2db.api_defaults.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; issue a key with "
            "`python manage.py api_token USERNAME`.",
        }


ErrorDetail = inline_serializer(
    "ErrorDetail",
    {"detail": serializers.CharField(help_text="What went wrong.")},
)
ValidationErrors = {
    "type": "object",
    "description": "Each field that is wrong, with what is wrong with it; rules "
    "that span several fields are under `non_field_errors`. For a field that "
    "holds a list of objects, the errors of each wrong item are under its "
    "position in the list (from 0).",
    "additionalProperties": {},
    "example": {"slug": ["agent with this slug already exists."]},
}
Conflict = inline_serializer(
    "DeleteConflict",
    {
        "detail": serializers.CharField(),
        "dependants": inline_serializer(
            "Dependant",
            {
                "resource": serializers.CharField(),
                "identifier": serializers.CharField(),
                "url": serializers.URLField(allow_null=True),
            },
            many=True,
        ),
    },
)

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Tag of this representation, for If-None-Match and If-Match.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier response: 304 if it is still current.",
)
REASON = OpenApiParameter(
    CHANGE_REASON,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Why you make this change; kept in the record's history.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read: the change is refused with 412 if the "
    "record changed since.",
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus each operation's error responses and headers."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET":
            parameters += [IF_NONE_MATCH, ETAG]
        elif self.method in ("PUT", "PATCH"):
            parameters += [IF_MATCH, REASON, ETAG]
        elif self.method == "DELETE" or self._is_detail_action():
            parameters += [IF_MATCH, ETAG]
        elif self.method == "POST":
            parameters += [REASON, ETAG]
        return parameters

    def _is_detail_action(self) -> bool:
        return "{" in self.path

    def get_auth(self):
        auth = super().get_auth()
        # Anyone may read: credentials are optional there.
        if self.method in SAFE_METHODS and {} not in auth:
            auth.append({})
        return auth

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        # Formats other than JSON (BibTeX, ...) say what their documents hold.
        for renderer in self.view.get_renderers():
            schema = getattr(renderer, "openapi_schema", None)
            for code, response in responses.items():
                content = response.get("content", {})
                if schema and code.startswith("2") and renderer.media_type in content:
                    content[renderer.media_type] = {"schema": schema}
        errors = {}
        if self.method == "GET":
            errors["304"] = None
            errors["400"] = ValidationErrors  # a bad filter value
            errors["404"] = ErrorDetail  # no such object, or no such page
        else:
            errors.update({"400": ValidationErrors, "401": ErrorDetail})
            errors["403"] = ErrorDetail
            if self._is_detail_action() or self.method != "POST":
                errors.update({"404": ErrorDetail, "412": ErrorDetail})
            if self.method == "DELETE":
                errors["409"] = Conflict
            errors["415"] = ErrorDetail
        errors["406"] = ErrorDetail
        errors["429"] = ErrorDetail
        for code, body in errors.items():
            if code in responses:
                continue
            if body is None:
                responses[code] = {"description": "Not modified: your ETag is current."}
            else:
                responses[code] = self._get_response_for_code(
                    body, code, media_types=["application/json"]
                )
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the body names each field and what is wrong.",
    "401": "Not authenticated: send `Authorization: Token <key>`.",
    "403": "Authenticated, but without the permission this needs.",
    "404": "No such object (or page).",
    "406": "None of the formats in Accept (or ?format=) is offered.",
    "409": "Still in use: the body lists what uses it.",
    "412": "Stale If-Match: the record changed since you read it.",
    "415": "The request body's media type is not accepted.",
    "429": "Too many anonymous requests: wait, or use a token.",
}


# --- Filtering ------------------------------------------------------------------


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with `?search=` over the columns in `search_groups`.

    `search_groups`: [(weight, [column, ...]), ...], A the most telling.
    `search_related`: [(model, path to this model's pk, [column, ...]), ...].
    """

    search_groups: list[tuple[str, list[str]]] = []
    search_related: list[tuple] = []

    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        label="Words to look for in names, aliases, identifiers, titles and "
        "text. On PostgreSQL: full text, best match first, each word also "
        "matching as a prefix.",
    )

    def filter_search(self, queryset, name, value):
        return search(queryset, value, self.search_groups, self.search_related)


class ManyValuesWidget(forms.SelectMultiple):
    """`?x=a&x=b` and `?x=a,b` alike (none of our identifiers holds a comma)."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        if values is None:
            return []
        if isinstance(values, str):
            values = [values]
        return [
            v.strip() for value in values for v in str(value).split(",") if v.strip()
        ]


def choices_filter(choices, **kwargs):
    """Rows whose field is any of several of `choices`."""
    return django_filters.MultipleChoiceFilter(
        choices=choices, widget=ManyValuesWidget, **kwargs
    )


class StrictBooleanField(forms.NullBooleanField):
    """true or false (or 1, 0); anything else is an error, not "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        found = {"true": True, "1": True, "false": False, "0": False}.get(
            str(value).lower()
        )
        if found is None:
            raise forms.ValidationError("Use true or false.", code="invalid")
        return found

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class MultipleValueField(forms.Field):
    """A list of values from `?x=a&x=b` or `?x=a,b`, each checked by `validator`."""

    widget = django_filters.widgets.QueryArrayWidget

    def __init__(self, *args, validator=None, **kwargs):
        self.validator = validator
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        values = [v.strip() for item in value for v in str(item).split(",")]
        values = [v for v in values if v]
        if len(values) > 100:
            raise forms.ValidationError("At most 100 values.")
        for v in values:
            if "\x00" in v:
                raise forms.ValidationError("Null characters are not allowed.")
            if self.validator is not None:
                self.validator(v)
        return values


class MultipleValueFilter(django_filters.Filter):
    """Rows whose field is any of several values."""

    field_class = MultipleValueField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)
        extend_schema_field(
            {
                "type": "array",
                "items": {"type": "string"},
                "description": f"{kwargs.get('label', '')} Repeat the parameter "
                "or separate values with commas.",
            }
        )(self)
