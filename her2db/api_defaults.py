"""The classes that REST_FRAMEWORK in settings names.

They live apart from her2db/api.py because DRF imports them while it is
still importing its own views, which her2db/api.py builds on.
"""

import orjson
from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import (
    exceptions,
    filters,
    pagination,
    permissions,
    renderers,
    throttling,
)
from rest_framework.settings import api_settings


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's hashed, expiring tokens; a token that is not text is just invalid."""

    def authenticate_credentials(self, token):
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:  # PostgreSQL would refuse to even look it up
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


def dump_json(data) -> bytes:
    # Non-string keys: DRF reports errors in a list under each item's index.
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


class JSONRenderer(renderers.JSONRenderer):
    """JSON through orjson: several times faster than the standard encoder.

    Always compact, whatever `indent` the client asks for, so that the bytes
    (and so the ETag) of a representation do not depend on the request.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dump_json(data)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page, at most {settings.API_MAX_PAGE_SIZE}."
    )
    max_page_size = settings.API_MAX_PAGE_SIZE


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


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Anonymous requests, at the rate in settings (read at each request)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ModelPermissions(permissions.DjangoModelPermissionsOrAnonReadOnly):
    """Anyone reads; writing needs the model permission (add, change, delete).

    DRF's class builds the view's queryset on every request to find the model,
    though reading needs no permission: that work is skipped for reads.
    """

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class FilterBackend(DjangoFilterBackend):
    """django-filter, without building a FilterSet when no filter is asked for."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
