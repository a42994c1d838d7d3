"""The API's documentation pages need nothing from another host.

drf-spectacular-sidecar serves Swagger UI and Redoc from our static files, but
Redoc's bundle draws the "API docs by Redocly" footer with an image from
cdn.redoc.ly, and no Redoc option turns it off. This view serves the sidecar's
bundle with that one address pointing at a local image instead.
"""

from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def redoc_bundle() -> bytes:
    with open(finders.find(REDOC_BUNDLE), "rb") as bundle:
        source = bundle.read()
    return source.replace(REDOC_LOGO.encode(), static("her2db/docs-logo.svg").encode())


@require_safe
@cache_control(public=True, max_age=86400)
def redoc_script(request):
    return HttpResponse(redoc_bundle(), content_type="text/javascript; charset=utf-8")
