"""Pages of a list: the default pagination class.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from django.conf import settings
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page, at most {settings.API_MAX_PAGE_SIZE}."
    )
    max_page_size = settings.API_MAX_PAGE_SIZE
