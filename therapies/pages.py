"""The resistance map's pages: /map/ for everyone (accepted claims), its SVG
download, and the admin's map for curators (which may include unpublished
claims). The JSON is MapView in views.py; the map itself is map.py."""

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from .map import (
    MapForm,
    admin_claims_url,
    api_claims_url,
    map_from,
    render_svg,
)
from .models import Agent, Evidence, Mechanism
from .models.evidence import sees_unpublished

PUBLIC_ONLY = (
    "The public map counts accepted claims only; curators include unpublished "
    "ones on the admin's map."
)
NOT_ALLOWED = "You may not see unpublished claims."
SVG_NAME = "her2db-resistance-map.svg"


def checked_form(request, public: bool) -> MapForm:
    """The map's parameters, with the unpublished toggle refused where it
    does not apply (the public map) or to whom it does not (readers)."""
    form = MapForm(request.GET)
    if form.is_valid() and form.cleaned_data.get("unpublished"):
        if public:
            form.add_error("unpublished", PUBLIC_ONLY)
        elif not sees_unpublished(request.user):
            form.add_error("unpublished", NOT_ALLOWED)
    return form


def map_context(request, form: MapForm, claims_url, download_url: str) -> dict:
    found = map_from(form)
    return {
        "map": found,
        # render_svg escapes every text it writes.
        "svg": mark_safe(render_svg(found, claims_url)),
        "form": form,
        "choices": [
            (
                name,
                label,
                [
                    (value, text, value in found.filters.get(name, ()))
                    for value, text in options
                ],
            )
            for name, label, options in [
                ("modality", "Agent class", Agent.Modality.choices),
                ("category", "Mechanism category", Mechanism.Category.choices),
                ("level", "Level", Evidence.Level.choices),
            ]
        ],
        "download_url": f"{download_url}?{request.GET.urlencode()}".rstrip("?"),
    }


def svg_download(request, found_svg: str) -> HttpResponse:
    response = HttpResponse(found_svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{SVG_NAME}"'
    return response


def refused(request, template: str, form: MapForm, context=None) -> HttpResponse:
    return render(request, template, {"form": form, **(context or {})}, status=400)


def public_claims_url(request, form: MapForm):
    base = request.build_absolute_uri(reverse("evidence-list"))
    return api_claims_url(base, form.query())


@require_safe
def map_page(request):
    """/map/: accepted claims, for everyone."""
    form = checked_form(request, public=True)
    if form.errors:
        return refused(request, "therapies/map.html", form)
    context = map_context(
        request, form, public_claims_url(request, form), reverse("map-svg")
    )
    return render(request, "therapies/map.html", context)


@require_safe
def map_svg(request):
    """/map/map.svg: the public map as a file, its links absolute."""
    form = checked_form(request, public=True)
    if form.errors:
        return refused(request, "therapies/map.html", form)
    found = map_from(form)
    return svg_download(
        request, render_svg(found, public_claims_url(request, form), standalone=True)
    )


@require_safe
def admin_map(request, download: bool = False):
    """The admin's map: each cell opens the admin's evidence list; those who
    may see unpublished claims can include them."""
    form = checked_form(request, public=False)
    context = {
        **admin.site.each_context(request),
        "title": "Resistance map",
        "may_include_unpublished": sees_unpublished(request.user),
    }
    template = "admin/therapies/map.html"
    if form.errors:
        return refused(request, template, form, context)
    changelist = reverse("admin:therapies_evidence_changelist")
    if download:
        changelist = request.build_absolute_uri(changelist)
        found = map_from(form)
        return svg_download(
            request,
            render_svg(found, admin_claims_url(changelist, form.query()), True),
        )
    context |= map_context(
        request,
        form,
        admin_claims_url(changelist, form.query()),
        reverse("admin-map-svg"),
    )
    query = request.GET.copy()
    query.pop("unpublished", None)
    context["published_url"] = f"?{query.urlencode()}".rstrip("?")
    query["unpublished"] = "true"
    context["unpublished_url"] = f"?{query.urlencode()}"
    return render(request, template, context)
