"""The home page at /, and /favicon.ico."""

from functools import cache

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from references.models import Citation
from therapies.map import api_claims_url, build_map, render_svg
from therapies.models import Agent, Evidence, Mechanism, Trial

FAVICON = settings.BASE_DIR / "her2db" / "static" / "her2db" / "favicon.ico"


@require_safe
def home(request):
    """What HER2db is, what it holds, the map, and where to go next."""
    counts = [
        ("agents", Agent.objects.count(), "agents-list"),
        ("mechanisms", Mechanism.objects.count(), "mechanisms-list"),
        ("trials", Trial.objects.count(), "trials-list"),
        ("citations", Citation.objects.count(), "citations-list"),
        ("accepted claims", Evidence.objects.accepted().count(), "evidence-list"),
    ]
    claims_url = api_claims_url(
        request.build_absolute_uri(reverse("evidence-list")), {}
    )
    return render(
        request,
        "her2db/home.html",
        {
            "counts": [(label, n, reverse(name)) for label, n, name in counts],
            # render_svg escapes every text it writes.
            "svg": mark_safe(render_svg(build_map(), claims_url)),
        },
    )


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    return HttpResponse(_favicon(), content_type="image/x-icon")
