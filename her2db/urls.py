"""The site's URLs: the admin, the API under /api/v1/, its schema and documentation."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from references.admin_import import import_view

admin.site.site_header = "HER2db curation"
admin.site.site_title = "HER2db"
admin.site.index_title = "Curated data"

urlpatterns = [
    # Before admin.site.urls, whose catch-all would otherwise answer first.
    path("admin/import/", admin.site.admin_view(import_view), name="admin-import"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("her2db.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script is a file of its own (?script), so
    # the Content-Security-Policy needs no inline scripts.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    # Log in and out for the browsable API (session with CSRF).
    path("api/auth/", include("rest_framework.urls")),
]

# JSON rather than HTML pages for errors under /api/.
handler404 = "her2db.api.exceptions.not_found"
handler500 = "her2db.api.exceptions.server_error"
