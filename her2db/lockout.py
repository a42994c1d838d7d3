"""What a locked-out login sees (django-axes calls lockout_response).

Under /api/ a JSON 429 with the time left in `detail`, `retry_after` and
Retry-After; elsewhere (the admin's login) the admin's own page saying the
same, also a 429. The time left runs from the latest failure of the locked
username or address, as django-axes counts it.
"""

import math

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Max, Q
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone


def seconds_left(request, credentials=None) -> int:
    """Seconds until the username or address may try again (at least 1)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    username = get_client_username(request, credentials)
    address = get_client_ip_address(request)
    latest = AccessAttempt.objects.filter(
        Q(username=username) | Q(ip_address=address)
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return max(1, math.ceil(cool_off.total_seconds()))
    left = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(left))


def describe(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_response(request, original_response=None, credentials=None):
    seconds = seconds_left(request, credentials)
    detail = (
        f"Too many failed logins for this account or from this address "
        f"({settings.AXES_FAILURE_LIMIT} in a row). Try again in "
        f"{describe(seconds)}, or ask an editor to unlock it."
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "retry_after": seconds}, status=429)
    else:
        context = {
            **admin.site.each_context(request),
            "title": "Login locked",
            "detail": detail,
            "seconds": seconds,
        }
        response = TemplateResponse(
            request, "admin/lockout.html", context, status=429
        ).render()
    response["Retry-After"] = str(seconds)
    return response
