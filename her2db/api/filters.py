"""What the resources' FilterSets build on: `?search=`, and filters that take
several values or a strict boolean."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from her2db.registry import registry

from .search import SYNTAX, SearchError, parse, search


class SearchField(forms.CharField):
    """A query in the search syntax; one with nothing to look for is an error."""

    def clean(self, value):
        # After the length and null-character checks.
        value = super().clean(value)
        if value and value.strip():
            try:
                parse(value)
            except SearchError as error:
                raise forms.ValidationError(str(error), code="invalid") from error
        return value


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with `?search=` over the search document the registry's
    declarations (`search` and `search_related`) make for its model."""

    search = SearchFilter(method="filter_search", max_length=200, label=SYNTAX)

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
