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
