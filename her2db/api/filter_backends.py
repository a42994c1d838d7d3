"""The default filter backends: django-filter's FilterSets and `?ordering=`.

The FilterSets themselves build on her2db/api/filters.py.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters


class FilterBackend(DjangoFilterBackend):
    """django-filter, without building a FilterSet when no filter is asked for."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=` on the view's `ordering_fields`, always ending on the primary key.

    Without the parameter the queryset keeps its own order (the model's
    `Meta.ordering`, or relevance when searching); each of those is unique.
    """

    def get_default_ordering(self, view):
        return None

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*ordering, "pk")
