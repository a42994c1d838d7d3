"""Pages of a list: the default pagination class.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page, at most {settings.API_MAX_PAGE_SIZE}."
    )
    max_page_size = settings.API_MAX_PAGE_SIZE
    # A page is a number, as the schema says: no `?page=last`.
    last_page_strings = ()

    def get_page_size(self, request):
        """`?page_size=` if given (a whole number from 1 to the maximum; anything
        else is a 400 naming it), else the default."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit()) or not (
            1 <= int(value) <= self.max_page_size
        ):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(value)

    def get_page_number(self, request, paginator):
        """`?page=` is a whole number, as the schema says: anything else,
        empty included, is no page (404), not the first one."""
        value = request.query_params.get(self.page_query_param)
        if value is not None and not (value.isascii() and value.isdigit()):
            raise NotFound("A page is a whole number, from 1.")
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {
                "minimum": 1,
                "maximum": self.max_page_size,
            },
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class Counted:
    """Rows to page whose number is already known (Django's Paginator asks
    `count()`, then slices): the count query is not run again."""

    def __init__(self, rows, count: int):
        self.rows, self.known = rows, count

    def count(self) -> int:
        return self.known

    @property
    def ordered(self) -> bool:
        return self.rows.ordered

    def __getitem__(self, index):
        return self.rows[index]
