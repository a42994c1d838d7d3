"""Serializer fields for links between resources, and prefetched relations.

A resource links to itself (LinkField) and shows related resources in brief
(Summary, SummaryRelatedField); to-many relations are read from plain lists
that `prefetched()` fills (FromPrefetch).
"""

import functools

from django.conf import settings
from django.db import models
from django.db.models import Prefetch
from django.urls import get_script_prefix, get_urlconf, reverse
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from her2db.registry import registry

# --- Links ----------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def list_path(basename: str, script_prefix: str, urlconf) -> str:
    """The path of a resource's list, reversed once per script prefix and URL
    configuration (reverse() takes the prefix from the request's thread)."""
    return reverse(f"{basename}-list", urlconf=urlconf)


def resource_url(request, basename: str, key) -> str:
    """Absolute URL of one resource: the request's scheme and host, once a
    request, before the list's path, reversed once a process."""
    if request is None:
        return f"/api/v1/{basename}/{key}/"
    origin = request.__dict__.get("_her2db_origin")
    if origin is None:
        origin = request.__dict__["_her2db_origin"] = request.build_absolute_uri(
            "/"
        ).removesuffix("/")
    urlconf = get_urlconf(settings.ROOT_URLCONF)
    path = list_path(basename, get_script_prefix(), urlconf)
    return f"{origin}{path}{key}/"


class LinkField(serializers.Field):
    """The API URL of the object itself, as the registry declares its resource."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        resource = registry.get(parent.Meta.model)
        self.basename, self.key = resource.basename, resource.key

    def to_representation(self, value):
        return resource_url(
            self.context.get("request"), self.basename, getattr(value, self.key)
        )


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

    Subclasses declare their fields (for the schema), the `model` and the
    `names` to show; its URL comes from the registry. `to_representation` is
    written out because summaries are the innermost loop of every list.
    """

    model: type
    names: tuple[str, ...]
    basename: str
    key: str

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        resource = registry.get(cls.model)
        cls.basename, cls.key = resource.basename, resource.key

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

    def get_choices(self, cutoff=None):
        """The browsable API's form choices, by identifier (a summary, being a
        dict, cannot be a choice's key)."""
        queryset = self.get_queryset()
        if queryset is None:
            return {}
        if cutoff is not None:
            queryset = queryset[:cutoff]
        return {
            getattr(item, self.slug_field): self.display_value(item)
            for item in queryset
        }

    def to_representation(self, obj):
        summary = self.__dict__.get("_summary")
        if summary is None:
            summary = self._summary = self.summary_class(context=self.context)
        return summary.to_representation(obj)


# --- Text ---------------------------------------------------------------------


class TextOnly:
    """Text takes JSON strings only, as the schema says: DRF would turn a
    number or a boolean into its digits ("12", "True") and accept it."""

    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(TextOnly, serializers.CharField):
    pass


class StrictSlugField(TextOnly, serializers.SlugField):
    pass


class StrictURLField(TextOnly, serializers.URLField):
    pass


class StrictEmailField(TextOnly, serializers.EmailField):
    pass


# The text fields of model serializers (CuratedSerializer, RowSerializer).
STRICT_TEXT_FIELDS = {
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
    models.SlugField: StrictSlugField,
    models.URLField: StrictURLField,
    models.EmailField: StrictEmailField,
}
