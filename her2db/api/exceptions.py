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

from .fields import resource_url
from .validation import constraint_errors, drf_errors


def dependants_of(error: ProtectedError | RestrictedError, request) -> list[dict]:
    """What still uses a row a client tried to delete, as resources it can look up."""
    found = {}
    objects = getattr(error, "protected_objects", None) or error.restricted_objects
    for obj in objects:
        resource = describe_dependant(obj, request)
        found.setdefault((resource["resource"], resource["identifier"]), resource)
    return sorted(found.values(), key=lambda r: (r["resource"], str(r["identifier"])))


# Through rows point at the object a reader cares about: an evidence item, a
# trial, an agent, a mechanism. Each entry: (attribute, resource, key).
_OWNERS = {
    "evidenceagent": ("evidence", "evidence", "uid"),
    "evidencecitation": ("evidence", "evidence", "uid"),
    "evidencetrial": ("evidence", "evidence", "uid"),
    "trialpublication": ("trial", "trials", "nct_id"),
    "trialarmagent": ("arm.trial", "trials", "nct_id"),
    "agenttarget": ("agent", "agents", "slug"),
    "approval": ("agent", "agents", "slug"),
    "mechanismgene": ("mechanism", "mechanisms", "slug"),
    "citationauthor": ("citation", "citations", "citekey"),
}
_RESOURCES = {
    "evidence": ("evidence", "uid"),
    "mechanism": ("mechanisms", "slug"),
    "trial": ("trials", "nct_id"),
    "agent": ("agents", "slug"),
    "citation": ("citations", "citekey"),
    "target": ("targets", "symbol"),
}


def describe_dependant(obj, request) -> dict:
    name = obj._meta.model_name
    if name in _OWNERS:
        path, resource, key = _OWNERS[name]
        for attribute in path.split("."):
            obj = getattr(obj, attribute)
    elif name in _RESOURCES:
        resource, key = _RESOURCES[name]
    else:
        return {"resource": name, "identifier": str(obj.pk), "url": None}
    identifier = str(getattr(obj, key))
    return {
        "resource": resource,
        "identifier": identifier,
        "url": resource_url(request, resource, identifier),
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
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """404 outside any view: JSON for API clients, Django's page for the rest."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views import defaults

    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    from django.views import defaults

    return defaults.server_error(request)
