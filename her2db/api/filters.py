"""What the resources' FilterSets build on: `?search=`, and filters that take
several values or a strict boolean."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from her2db.registry import registry

from .search import SYNTAX, search


class SearchFilter(django_filters.CharFilter):
    """A query in the search syntax (her2db/api/search.py); one with nothing
    to look for matches nothing."""


# Text without null characters (which no database column can hold).
NO_NULLS = "^[^\\u0000]*$"


class FilterSet(django_filters.FilterSet):
    """A FilterSet where a parameter given empty (`?until=`) is an error, not
    "no filter", unless the filter takes free text (a text filter that takes
    a key says so with `empty_is_error = True`): an empty string is not a
    number, a moment, a boolean, a choice or an identifier, and the schema
    says so (blanks are empty too, except among identifiers, which are text)."""

    def is_valid(self):
        valid = super().is_valid()
        for name, found in self.filters.items():
            free_text = isinstance(found, django_filters.CharFilter)
            if getattr(found, "empty_is_error", not free_text) is False:
                continue
            if name in self.errors:
                continue
            text = isinstance(found, MultipleValueFilter)
            given = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(str(v) == "" if text else not str(v).strip() for v in given):
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


class SearchFilterSet(FilterSet):
    """A FilterSet with `?search=` over the search document the registry's
    declarations (`search` and `search_related`) make for its model."""

    search = extend_schema_field(
        {"type": "string", "maxLength": 200, "pattern": NO_NULLS, "description": SYNTAX}
    )(SearchFilter(method="filter_search", max_length=200, label=SYNTAX))

    def filter_search(self, queryset, name, value):
        if not registry.get(self._meta.model).search:
            return queryset
        return search(queryset, value)


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


class ValueListWidget(django_filters.widgets.QueryArrayWidget):
    """Every value given, repeats included (QueryArrayWidget drops repeats, so
    150 copies of one value would pass a limit of 100)."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        return super().value_from_datadict(data, files, name)


class MultipleValueField(forms.Field):
    """A list of values from `?x=a&x=b` or `?x=a,b`, each checked by `validator`."""

    widget = ValueListWidget

    def __init__(self, *args, validator=None, max_length=None, **kwargs):
        self.validator = validator
        self.max_length = max_length
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
            if self.max_length is not None and len(v) > self.max_length:
                raise forms.ValidationError(
                    f"At most {self.max_length} characters a value."
                )
            if self.validator is not None:
                self.validator(v)
        return values


class MultipleValueFilter(django_filters.Filter):
    """Rows whose field is any of several values."""

    field_class = MultipleValueField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)
        # The schema gives the pattern the server checks each value against.
        regex = getattr(kwargs.get("validator"), "regex", None)
        pattern = NO_NULLS if regex is None else regex.pattern
        items = {"type": "string", "minLength": 1, "pattern": pattern}
        if "max_length" in kwargs:
            items["maxLength"] = kwargs["max_length"]
        extend_schema_field(
            {
                "type": "array",
                "items": items,
                "maxItems": 100,
                "description": f"{kwargs.get('label', '')} Repeat the parameter "
                "or separate values with commas.",
            }
        )(self)


class IdentifierFilter(MultipleValueFilter):
    """Rows related to the objects that these identifiers name, through the
    FilterSet's `filter_related(queryset, name, named)`.

    An identifier that names nothing matches nothing: the answer is an empty
    list, not a 400, so any string the schema allows is a valid question."""

    def __init__(self, model, to_field: str, label: str):
        self.named_model, self.to_field = model, to_field
        super().__init__(
            label=f"{label} An identifier that names nothing matches nothing.",
            max_length=200,
        )

    def filter(self, qs, value):
        if not value:
            return qs
        named = self.named_model._default_manager.filter(
            **{f"{self.to_field}__in": value}
        )
        return self.parent.filter_related(qs, self.field_name, named)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number: 2019, not 2019.5."""

    field_class = forms.IntegerField


def text_filter(max_length: int, **kwargs) -> django_filters.CharFilter:
    """Free text, bounded, with its bounds in the schema."""
    found = django_filters.CharFilter(max_length=max_length, **kwargs)
    text = {"type": "string", "maxLength": max_length, "pattern": NO_NULLS}
    return extend_schema_field(text)(found)
