"""Errors as the API answers them: DRF's handler plus Django's errors, and
JSON 404s and 500s under /api/ (handler404 and handler500 in her2db/urls.py).
"""

from collections import Counter

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework import status as http
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from her2db.registry import registry

from .fields import resource_url
from .renderers import JSONRenderer
from .validation import constraint_errors, drf_errors


def dependants_of(error: ProtectedError | RestrictedError, request) -> list[dict]:
    """What still uses a row a client tried to delete, as resources it can look up."""
    found = {}
    objects = getattr(error, "protected_objects", None) or error.restricted_objects
    for obj in objects:
        resource = describe_dependant(obj, request)
        found.setdefault((resource["resource"], resource["identifier"]), resource)
    return sorted(found.values(), key=lambda r: (r["resource"], str(r["identifier"])))


def describe_dependant(obj, request) -> dict:
    """A row that blocks a delete, as the record a reader can look up.

    An owned row (an arm, a claim's citation) is named by its record.
    """
    resource = registry.find(obj)
    if resource is not None and resource.owner:
        obj = resource.owner_of(obj)
        resource = registry.get(obj)
    if resource is None or not resource.basename:
        return {
            "resource": obj._meta.model_name,
            "identifier": str(obj.pk),
            "url": None,
        }
    identifier = resource.identify(obj)
    return {
        "resource": resource.basename,
        "identifier": identifier,
        "url": resource_url(request, resource.basename, identifier),
    }


def exception_handler(exc, context):
    """DRF's handler, plus the Django errors a write can raise."""
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(drf_errors(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        view = context.get("view")
        try:
            label = view.get_serializer_class().Meta.model._meta.verbose_name
        except AttributeError:
            label = "record"
        dependants = dependants_of(exc, request)
        counts = Counter(d["resource"] for d in dependants)
        users = ", ".join(f"{n} {resource}" for resource, n in sorted(counts.items()))
        return Response(
            {
                "detail": f"This {label} cannot be deleted while other records "
                f"use it ({users}). Remove those links first.",
                "dependants": dependants,
            },
            status=http.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(constraint_errors(exc))
    elif isinstance(exc, exceptions.Throttled):
        return throttled(exc, request)
    return drf_exception_handler(exc, context)


def throttled(exc: exceptions.Throttled, request) -> Response:
    """429 as JSON whatever the client accepted, with Retry-After in the body too."""
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    response = drf_exception_handler(exc, {"request": request})
    wait = int(exc.wait) if exc.wait is not None else None
    if wait is not None:
        response.data = {**response.data, "retry_after": wait}
    return response


def not_found(request, exception=None):
    """404 outside any view: JSON for API clients, Django's page for the rest."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views import defaults

    return defaults.page_not_found(request, exception)


class JSONNotFoundMiddleware:
    """A 404 under /api/ is JSON even with DEBUG=True.

    Django answers a path no URL matches with its HTML debug page when DEBUG
    is on (handler404 is used only when it is off). The API's own 404s (DRF's
    responses, such as an unknown identifier) pass through as they are.
    Placed after CommonMiddleware, which still redirects `/api/v1/agents` to
    `/api/v1/agents/`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not isinstance(response, Response)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return not_found(request)
        return response


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    from django.views import defaults

    return defaults.server_error(request)
