"""The home page, the favicon, JSON 404s under /api/ even with DEBUG on, and
documentation pages that fetch nothing from another host."""

import re

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db


def test_home_says_what_her2db_is_and_what_it_holds(client):
    agents = [factories.make_agent() for _ in range(3)]
    factories.make_mechanism()  # 1 more mechanism for each claim below
    factories.make_trial()
    factories.make_evidence(agents=agents[:1])  # and a citation
    factories.make_evidence(agents=agents[1:2], status="SUBMITTED")
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "curated knowledge base of HER2-positive breast cancer" in page
    counts = {
        label: int(number)
        for number, label in re.findall(
            r'<span class="number">(\d+)</span> ([a-z ]+)</a>', page
        )
    }
    assert counts == {
        "agents": 3,
        "mechanisms": 3,
        "trials": 1,
        "citations": 2,
        "accepted claims": 1,
    }


def test_home_links_to_the_map_the_admin_the_docs_and_the_change_feed(client):
    factories.make_evidence()
    page = client.get("/").content.decode()
    for href in [
        "/map/",
        "/admin/",
        "/api/v1/",
        "/api/docs/",
        "/api/redoc/",
        "/api/schema/",
        "/api/v1/changes/",
    ]:
        assert f'href="{href}"' in page, href
    assert "export_release" in page  # releases: what exists, and that none is served
    assert "<svg" in page and "Open the 1 claim(s)" in page  # the map


def test_home_runs_a_fixed_number_of_queries(client):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    factories.make_evidence()
    small = count()
    for _ in range(5):
        factories.make_evidence(agents=[factories.make_agent(), factories.make_agent()])
    # five counts; the map's grouped counts, agents and mechanisms
    assert (small, count()) == (8, 8)


def test_pages_need_no_inline_script_or_style(client):
    factories.make_evidence()
    page = client.get("/").content.decode()
    assert "<style" not in page and "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_the_favicon_is_served_and_linked_everywhere(client, curator_client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    icon = '<link rel="icon" href="/static/her2db/favicon.svg"'
    assert finders.find("her2db/favicon.svg")
    for page_client, url in [
        (client, "/"),
        (client, "/map/"),
        (client, "/api/redoc/"),
        (curator_client, "/admin/"),
        (curator_client, "/admin/map/"),
        (curator_client, "/admin/therapies/agent/"),
    ]:
        assert icon in page_client.get(url).content.decode(), url


def test_view_site_leads_home_and_the_admin_links_its_map(curator_client):
    assert admin.site.site_url == "/"
    page = curator_client.get("/admin/").content.decode()
    assert '<a href="/">View site</a>' in page
    assert '<a href="/admin/map/">Resistance map</a>' in page


@pytest.mark.parametrize(
    "url",
    [
        "/api/nothing/",
        "/api/v1/nothing/",
        "/api/v1/trials/not-an-nct-id/",  # no route matches
        "/api/v1/agents/no-such-agent/",  # the view answers
        "/api/v1/evidence/999999/",
        "/api/v1/evidence/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_unknown_api_paths_are_json_404s_even_with_debug(settings, client, url):
    settings.DEBUG = True
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"detail"}


def test_a_browser_asking_a_missing_api_path_gets_json_too(settings, client):
    settings.DEBUG = True
    response = client.get("/api/v1/nothing/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_api_paths_without_the_slash_still_redirect(settings, client):
    settings.DEBUG = True
    response = client.get("/api/v1/agents")
    assert (response.status_code, response["Location"]) == (301, "/api/v1/agents/")


def test_other_paths_keep_django_404_pages(settings, client):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_redoc_fetches_nothing_from_another_host(client):
    page = client.get("/api/redoc/").content.decode()
    assert not re.search(r"https?://", page), page
    script_url = re.search(r'<script src="([^"]+)"', page).group(1)
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    body = b"".join(script.streaming_content) if script.streaming else script.content
    assert b"cdn.redoc.ly" not in body
    # The footer's image is ours, and served.
    assert b'"/static/her2db/docs-logo.svg"' in body
    assert finders.find("her2db/docs-logo.svg")
    for href in re.findall(r'href="(/static/[^"]+)"', page):
        assert finders.find(href.removeprefix("/static/")), href


def test_swagger_ui_fetches_nothing_from_another_host_and_inlines_nothing(client):
    page = client.get("/api/docs/").content.decode()
    assert not re.search(r"https?://", page), page
    # Its start-up script is served apart: a strict CSP can forbid inline ones.
    assert "<style" not in page and "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content
