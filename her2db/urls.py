"""The site's URLs: the admin, the API under /api/v1/, its schema and documentation."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
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
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema"),
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
handler400 = "her2db.faults.bad_request"
handler404 = "her2db.api.exceptions.not_found"
handler500 = "her2db.api.exceptions.server_error"
