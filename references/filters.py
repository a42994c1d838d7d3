import django_filters

from her2db.api import (
    BooleanFilter,
    MultipleValueFilter,
    SearchFilterSet,
    choices_filter,
)

from .identifiers import normalise_doi, validate_pmid
from .models import Author, Citation


class CitationFilter(SearchFilterSet):
    search_groups = [
        ("A", ["citekey", "doi", "pmid", "pmcid"]),
        ("B", ["title"]),
        ("C", ["journal"]),
    ]
    # A citation is also found by its authors' family names.
    search_related = [(Author, "citations", ["family_name"])]

    year_min = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="gte",
        min_value=0,
        max_value=9999,
        label="Published in or after this year.",
    )
    year_max = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="lte",
        min_value=0,
        max_value=9999,
        label="Published in or before this year.",
    )
    journal = django_filters.CharFilter(
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
