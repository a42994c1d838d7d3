"""The classes that REST_FRAMEWORK in settings names.

They live apart from her2db/api.py because DRF imports them while it is
still importing its own views, which her2db/api.py builds on.
"""

import orjson
from django.conf import settings
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions, filters, pagination, renderers, throttling
from rest_framework.settings import api_settings


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's hashed, expiring tokens; a token that is not text is just invalid."""

    def authenticate_credentials(self, token):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
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
