"""The references app's API resources, registered on the project's router."""

from .views import CitationViewSet

# (URL prefix, viewset, basename): her2db/api/urls.py registers each.
routes = [
    ("citations", CitationViewSet, "citations"),
]
