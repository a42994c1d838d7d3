"""Content negotiation: an unknown ?format= is 406, as the schema says.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but a format no renderer offers is Not Acceptable
    (DRF answers 404, as if the resource did not exist)."""

    def filter_renderers(self, renderers, format):
        offered = [renderer for renderer in renderers if renderer.format == format]
        if not offered:
            formats = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise NotAcceptable(f"No format {format!r} here; formats: {formats}.")
        return offered
