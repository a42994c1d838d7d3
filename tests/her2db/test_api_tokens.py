"""API tokens: issued once by a command, stored hashed, expiring; anonymous
reading is throttled, generously."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def issue(username: str, *args) -> str:
    out, err = StringIO(), StringIO()
    call_command("api_token", username, *args, stdout=out, stderr=err)
    assert "shown only this once" in err.getvalue()
    return out.getvalue().strip()


def test_api_token_prints_a_key_that_is_stored_only_as_a_hash(curator):
    key = issue("curator")
    token = AuthToken.objects.get(user=curator)
    assert key not in (token.digest, token.token_key)
    assert key.startswith(token.token_key)
    assert token.expiry - timezone.now() > timedelta(days=89)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/v1/targets/", {"symbol": "ERBB4", "name": "erb-b2 4"}, format="json"
    )
    assert response.status_code == 201


def test_api_token_expiry_can_be_chosen_and_expired_tokens_are_refused(curator):
    key = issue("curator", "--days", "1")
    token = AuthToken.objects.get(user=curator)
    assert token.expiry - timezone.now() < timedelta(days=1, minutes=1)
    AuthToken.objects.filter(pk=token.pk).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/agents/")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_api_token_needs_an_existing_active_user(nobody):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("api_token", "ghost")
    nobody.is_active = False
    nobody.save()
    with pytest.raises(CommandError, match="not active"):
        call_command("api_token", "nobody")


@pytest.mark.parametrize(
    "header",
    ["Token", "Token not-a-real-token", "Token a b", "Token \xe9\xe9", "Token a\x00b"],
)
def test_bad_tokens_are_401s(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/agents/").status_code == 401


def test_anonymous_reading_is_throttled_generously(anon, curator_api):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        codes = [anon.get("/api/v1/agents/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "Retry-After" in anon.get("/api/v1/agents/")
        # A token holder counts at its own, higher rate (API_USER_RATE).
        assert all(
            curator_api.get("/api/v1/agents/").status_code == 200 for _ in range(5)
        )
    # The default is generous: at least a request a second, sustained.
    count, period = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")
    per_second = int(count) / {"second": 1, "minute": 60, "hour": 3600}[period]
    assert per_second >= 1
