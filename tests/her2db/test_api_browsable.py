"""The browsable API (HTML) answers every list and detail, for every persona."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/api/v1/",
    "/api/v1/agents/",
    "/api/v1/agents/trastuzumab/",
    "/api/v1/targets/",
    "/api/v1/mechanisms/",
    "/api/v1/trials/",
    "/api/v1/evidence/",
    "/api/v1/citations/",
    "/api/v1/changes/",
]


@pytest.mark.parametrize("persona", ["client", "curator_client", "editor_client"])
def test_browsable_pages_answer_200(persona, request, world):
    client = request.getfixturevalue(persona)
    details = [
        f"/api/v1/evidence/{world['accepted'][0].pk}/",
        f"/api/v1/mechanisms/{world['mechanisms'][1].slug}/",
        f"/api/v1/trials/{world['trial'].nct_id}/",
        f"/api/v1/citations/{world['citations'][0].citekey}/",
    ]
    for url in PAGES + details:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith("text/html")


def test_the_browsable_page_shows_the_json_indented_and_the_api_stays_compact(
    client, world
):
    page = client.get("/api/v1/agents/trastuzumab/", HTTP_ACCEPT="text/html")
    assert "\n  &quot;slug&quot;: &quot;trastuzumab&quot;" in page.content.decode()
    raw = client.get("/api/v1/agents/trastuzumab/", HTTP_ACCEPT="application/json")
    assert b"\n" not in raw.content
    indented = client.get(
        "/api/v1/agents/trastuzumab/", HTTP_ACCEPT="application/json; indent=4"
    )
    assert indented.content == raw.content  # the bytes (and ETag) are the same
