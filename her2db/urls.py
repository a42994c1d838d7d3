"""The site's URLs: the home page and the map, the admin, the API under
/api/v1/, its schema and documentation."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from her2db.api.docs import redoc_script
from her2db.home import favicon, home
from references.admin_import import import_view
from therapies import pages

admin.site.site_header = "HER2db curation"
admin.site.site_title = "HER2db"
admin.site.index_title = "Curated data"
# The app menu beside every page took a quarter of a 1280 px screen from
# the lists; the home page and the breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False
admin.site.site_url = "/"  # "View site": the home page

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("map/", pages.map_page, name="map"),
    path("map/map.svg", pages.map_svg, name="map-svg"),
    # Before admin.site.urls, whose catch-all would otherwise answer first.
    path("admin/import/", admin.site.admin_view(import_view), name="admin-import"),
    path("admin/map/", admin.site.admin_view(pages.admin_map), name="admin-map"),
    path(
        "admin/map/map.svg",
        admin.site.admin_view(pages.admin_map),
        {"download": True},
        name="admin-map-svg",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("her2db.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script is a file of its own (?script), so
    # the Content-Security-Policy needs no inline scripts.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="api/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("api/redoc/redoc.standalone.js", redoc_script, name="redoc-script"),
    # Log in and out for the browsable API (session with CSRF).
    path("api/auth/", include("rest_framework.urls")),
]

# JSON rather than HTML pages for errors under /api/.
handler400 = "her2db.faults.bad_request"
handler404 = "her2db.api.exceptions.not_found"
handler500 = "her2db.api.exceptions.server_error"
