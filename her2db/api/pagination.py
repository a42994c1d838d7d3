"""Pages of a list: the default pagination class.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from django.conf import settings
from rest_framework import exceptions, pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page, at most {settings.API_MAX_PAGE_SIZE}."
    )
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        """?page_size= as asked (more than the maximum gives the maximum), or
        the default; anything but a whole number of at least 1 is a 400 (DRF
        would quietly use the default)."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or int(value) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["A whole number, at least 1."]}
            )
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1)
        return parameters
