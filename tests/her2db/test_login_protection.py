"""Login protection: repeated failures lock a username and an address out of
the admin's and the API's login, with a message giving the time left;
editors unlock."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

ADMIN = "/admin/login/"
API = "/api/auth/login/"
PASSWORD = "the-right-password-42"
LIMIT = settings.AXES_FAILURE_LIMIT
MINUTES = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        "mallory-target", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(url, username, password, address="203.0.113.9"):
    return Client().post(
        url, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


@pytest.mark.parametrize("url", [ADMIN, API])
def test_failures_up_to_the_limit_still_allow_the_right_password(staff, url):
    for _ in range(LIMIT - 1):
        assert log_in(url, staff.username, "wrong").status_code == 200
    assert logged_in(log_in(url, staff.username, PASSWORD))


def test_admin_login_locks_the_username_with_the_time_left(staff):
    codes = [log_in(ADMIN, staff.username, "wrong").status_code for _ in range(30)]
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert set(codes[LIMIT:]) == {429}
    response = log_in(ADMIN, staff.username, PASSWORD)
    assert response.status_code == 429
    assert MINUTES * 60 - 30 <= int(response["Retry-After"]) <= MINUTES * 60
    page = response.content.decode()
    assert "Too many failed logins for this account or from this address" in page
    assert f"Try again in {MINUTES} minutes" in page
    assert "_auth_user_id" not in response.client.session


def test_api_login_lockout_is_json_with_the_time_left(staff):
    for _ in range(LIMIT):
        log_in(API, staff.username, "wrong")
    response = log_in(API, staff.username, PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "detail": f"Too many failed logins for this account or from this address "
        f"({LIMIT} in a row). Try again in {MINUTES} minutes, or ask an editor "
        "to unlock it.",
        "retry_after": int(response["Retry-After"]),
    }
    assert MINUTES * 60 - 30 <= body["retry_after"] <= MINUTES * 60


def test_a_username_is_locked_whatever_address_tries_it(staff):
    for i in range(LIMIT):
        log_in(ADMIN, staff.username, "wrong", address=f"198.51.100.{i}")
    response = log_in(ADMIN, staff.username, PASSWORD, address="192.0.2.1")
    assert response.status_code == 429


def test_an_address_is_locked_whatever_username_it_tries(staff):
    for i in range(LIMIT):
        log_in(ADMIN, f"guess-{i}", "wrong", address="198.51.100.7")
    assert log_in(ADMIN, staff.username, PASSWORD, "198.51.100.7").status_code == 429
    # Another address may still log in as that user.
    assert logged_in(log_in(ADMIN, staff.username, PASSWORD, "192.0.2.1"))


def test_a_spoofed_forwarded_for_does_not_escape_the_address_lock(staff):
    client = Client()
    for i in range(LIMIT):
        client.post(
            ADMIN,
            {"username": f"guess-{i}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
    response = client.post(
        ADMIN,
        {"username": staff.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert response.status_code == 429


def test_an_editor_unlocks_in_the_admin(staff, editor_client, curator_client):
    for _ in range(LIMIT):
        log_in(ADMIN, staff.username, "wrong")
    assert log_in(ADMIN, staff.username, PASSWORD).status_code == 429
    listing = "/admin/axes/accessattempt/"
    assert curator_client.get(listing).status_code == 403
    page = editor_client.get(listing)
    assert page.status_code == 200
    assert staff.username in page.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = editor_client.post(
        listing,
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert logged_in(log_in(ADMIN, staff.username, PASSWORD))


def test_the_lock_ends_after_the_cool_off(staff):
    from datetime import timedelta

    for _ in range(LIMIT):
        log_in(ADMIN, staff.username, "wrong")
    assert log_in(ADMIN, staff.username, PASSWORD).status_code == 429
    earlier = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - earlier
        )
    assert logged_in(log_in(ADMIN, staff.username, PASSWORD))
