"""The citation list's filters (?year_min=, ?journal=, ?pmid=, ?doi=, ?search=...)."""

from collections.abc import Iterable
from typing import Any

import django_filters
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field

from her2db.api.filters import (
    BooleanFilter,
    IntegerFilter,
    MultipleValueFilter,
    SearchFilterSet,
    choices_filter,
    text_filter,
)

from .identifiers import normalise_doi, validate_pmid
from .models import Citation


def year_filter(lookup_expr: str, label: str) -> django_filters.NumberFilter:
    found = IntegerFilter(
        field_name="year",
        lookup_expr=lookup_expr,
        min_value=0,
        max_value=9999,
        label=label,
    )
    bounds = {"type": "integer", "minimum": 0, "maximum": 9999}
    return extend_schema_field(bounds)(found)


class CitationFilter(SearchFilterSet):
    year_min = year_filter("gte", "Published in or after this year.")
    year_max = year_filter("lte", "Published in or before this year.")
    journal = text_filter(
        lookup_expr="iexact", max_length=255, label="Journal, any case."
    )
    pmid = MultipleValueFilter(validator=validate_pmid, label="PubMed ids.")
    doi = MultipleValueFilter(method="filter_doi", label="DOIs, any case or prefix.")
    publication_type = choices_filter(Citation.PublicationType.choices)
    retracted = BooleanFilter()

    class Meta:
        model = Citation
        fields = []

    def filter_doi(self, queryset, name, value):
        return queryset.filter(doi__in=[normalise_doi(v) for v in value])


def select_citations(params: dict[str, Any], citekeys: Iterable[str] = ()) -> list:
    """The citations ``CitationFilter`` selects with ``params`` (the API's
    query parameters), among ``citekeys`` if given, with their authors.

    ValueError for a parameter the filter refuses or a citekey that is not
    there.
    """
    citekeys = list(citekeys)
    queryset = Citation.objects.with_authors()
    if citekeys:
        queryset = queryset.filter(citekey__in=citekeys)
    data = QueryDict(mutable=True)
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        data.setlist(name, [str(v) for v in values])
    filterset = CitationFilter(data, queryset=queryset)
    if not filterset.is_valid():
        raise ValueError(
            "; ".join(
                f"{name}: {' '.join(messages)}"
                for name, messages in filterset.errors.items()
            )
        )
    citations = list(filterset.qs.order_by("citekey"))
    missing = set(citekeys) - {c.citekey for c in citations}
    if missing:
        raise ValueError(f"No citation with citekey {', '.join(sorted(missing))}.")
    return citations
