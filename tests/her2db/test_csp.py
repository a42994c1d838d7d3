"""Every HTML page carries a Content-Security-Policy that lets a browser load
only what HER2db itself serves, and run no inline script. (The browser tests
in test_browser.py show the pages still work under it and break none of it.)
JSON answers need no policy: nothing renders them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "Content-Security-Policy"
# Sources a directive may name: HER2db's own origin, inline data and blobs it
# builds itself, nothing else.
OWN = {"'self'", "'none'", "data:", "blob:"}


def policy(response) -> dict[str, list[str]]:
    directives = [d.split() for d in response[HEADER].split(";") if d.strip()]
    return {name: sources for name, *sources in directives}


def html_pages() -> list[str]:
    pages = [
        "/admin/",
        "/admin/login/",
        "/admin/import/",
        "/api/docs/",
        "/api/redoc/",
        "/api/auth/login/",
        "/no-such-page/",
        "/",
        "/map/",
    ]
    for model in admin.site._registry:
        if model._meta.app_label in ("references", "therapies"):
            info = model._meta.app_label, model._meta.model_name
            pages.append(reverse("admin:{}_{}_changelist".format(*info)))
    return pages


@pytest.mark.parametrize("url", html_pages())
def test_every_html_page_allows_only_what_her2db_serves(curator_client, url):
    response = curator_client.get(url, HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html"), url
    rules = policy(response)
    assert rules["default-src"] == ["'self'"]
    assert rules["script-src"] == ["'self'"]  # no inline script, no eval
    assert rules["object-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'self'"]
    assert {s for sources in rules.values() for s in sources} - OWN == {
        "'unsafe-inline'"
    }
    assert rules["style-src"] == ["'self'", "'unsafe-inline'"]


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/agents/", "/api/v1/evidence/"])
def test_browsable_api_pages_carry_the_policy(curator_client, url):
    factories.make_evidence()
    response = curator_client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert policy(response)["script-src"] == ["'self'"]
    assert "onclick" not in response.content.decode()  # log-out is a plain form


def test_swagger_ui_starts_from_a_script_file_not_an_inline_one(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_redoc_starts_without_an_inline_script(client):
    page = client.get("/api/redoc/").content.decode()
    assert "<script>" not in page
    assert "<redoc spec-url=" in page
