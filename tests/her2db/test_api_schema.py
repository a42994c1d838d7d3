"""The OpenAPI schema is valid and complete, and the documentation pages are
served by HER2db itself, with no CDN."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # --validate checks against the OpenAPI 3 specification's own schema.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/evidence/{id}/transition/" in out.read_text()


def test_schema_is_served_and_describes_every_operation(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    ours = {
        f"/api/v1/{name}/{suffix}"
        for name, key in [
            ("agents", "{slug}"),
            ("targets", "{symbol}"),
            ("mechanisms", "{slug}"),
            ("trials", "{nct_id}"),
            ("citations", "{citekey}"),
            ("evidence", "{id}"),
        ]
        for suffix in ("", f"{key}/")
    } | {
        "/api/v1/evidence/{id}/transition/",
        "/api/v1/revisions/",
        "/api/v1/revisions/{id}/",
        "/api/v1/revisions/{id}/transition/",
    }
    assert ours <= set(schema["paths"])
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert {"406", "429"} <= codes, (path, method)
        if method == "get":
            assert {"200", "304", "400", "404"} <= codes, path
            assert "ETag" in operation["responses"]["200"]["headers"]
            assert {} in operation["security"]  # anonymous reading
        else:
            assert {"400", "401", "403"} <= codes, (path, method)
            assert {} not in operation["security"]
        if method in ("put", "patch", "delete"):
            assert {"404", "412", "428"} <= codes
            if_match = [p for p in operation["parameters"] if p["name"] == "If-Match"]
            assert if_match and if_match[0]["required"], (path, method)
        if method == "delete":
            assert "409" in codes
    errors = schema["components"]["schemas"]
    assert set(errors["DeleteConflict"]["properties"]) == {"detail", "dependants"}
    auth = schema["components"]["securitySchemes"]["token"]
    assert auth == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": auth["description"],
    }


def test_citation_formats_are_in_the_schema(anon):
    schema = anon.get("/api/schema/?format=json").json()
    content = schema["paths"]["/api/v1/citations/"]["get"]["responses"]["200"][
        "content"
    ]
    assert set(content) == {
        "application/json",
        "application/vnd.citationstyles.csl+json",
        "application/x-bibtex",
        "application/x-research-info-systems",
    }
    assert content["application/x-bibtex"]["schema"] == {"type": "string"}


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_only_local_assets(anon, url):
    response = anon.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    for source in sources:
        assert source.startswith("/"), source  # nothing from another host
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    if url == "/api/docs/":  # its start-up script, served apart, names the schema
        page += anon.get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in page


def test_the_schema_says_a_change_to_an_accepted_claim_is_a_revision(anon):
    schema = anon.get("/api/schema/?format=json").json()
    patch = schema["paths"]["/api/v1/evidence/{id}/"]["patch"]
    assert {"200", "202", "428"} <= set(patch["responses"])
    revision = patch["responses"]["202"]["content"]["application/json"]["schema"]
    assert revision == {"$ref": "#/components/schemas/Revision"}
    assert "428" in schema["paths"]["/api/v1/agents/{slug}/"]["delete"]["responses"]


def test_the_schema_says_how_approvals_are_dated_and_when_one_is_needed(anon):
    schema = anon.get("/api/schema/?format=json").json()
    approval = schema["components"]["schemas"]["Approval"]["properties"]
    assert "first day of that month or year" in approval["date"]["description"]
    assert approval["date_precision"]["description"].startswith(
        "Whether the date is exact to the day"
    )
    agent = schema["components"]["schemas"]["Agent"]["properties"]
    assert "APPROVED has at least one" in agent["approvals"]["description"]
