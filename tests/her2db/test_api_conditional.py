"""Conditional requests: ETags on every read, 304 when unchanged, and If-Match
guarding every change against a stale copy."""

import pytest

from tests.api_clients import current
from therapies.models import Agent

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/agents/",
    "/api/v1/agents/trastuzumab/",
    "/api/v1/targets/",
    "/api/v1/targets/ERBB2/",
    "/api/v1/mechanisms/",
    "/api/v1/mechanisms/p95her2/",
    "/api/v1/trials/",
    "/api/v1/trials/NCT00004067/",
    "/api/v1/evidence/",
    "/api/v1/citations/",
    "/api/v1/citations/Scaltriti2007/",
    "/api/v1/citations/?format=bibtex",
    "/api/v1/citations/Scaltriti2007/?format=ris",
]


@pytest.mark.parametrize("url", READS)
def test_every_read_has_an_etag_and_answers_304_to_it(anon, world, url):
    first = anon.get(url)
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    assert anon.get(url)["ETag"] == tag  # the same representation, the same tag
    again = anon.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == tag
    # A list of tags, or a weak form of ours, matches too.
    assert anon.get(url, HTTP_IF_NONE_MATCH=f'"x", W/{tag}').status_code == 304
    assert anon.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_the_etag_changes_with_the_data_and_the_format(anon, world):
    url = "/api/v1/agents/trastuzumab/"
    before = anon.get(url)["ETag"]
    Agent.objects.filter(slug="trastuzumab").update(abbreviation="T")
    after = anon.get(url)["ETag"]
    assert after != before
    assert anon.get(url, HTTP_IF_NONE_MATCH=before).status_code == 200
    listing = anon.get("/api/v1/citations/")["ETag"]
    assert anon.get("/api/v1/citations/?format=csl")["ETag"] != listing
    # The browsable API shows the same JSON and so shares its tag.
    html = anon.get("/api/v1/agents/trastuzumab/", HTTP_ACCEPT="text/html")
    assert html["ETag"] == after


def test_evidence_detail_etag_is_the_same_by_number_or_uid(anon, world):
    claim = world["accepted"][0]
    by_uid = anon.get(f"/api/v1/evidence/{claim.uid}/")["ETag"]
    assert anon.get(f"/api/v1/evidence/{claim.pk}/")["ETag"] == by_uid


def test_a_stale_if_match_is_412_and_changes_nothing(curator_api, world):
    url = "/api/v1/agents/trastuzumab/"
    tag = curator_api.get(url)["ETag"]
    # Someone else changes the agent meanwhile.
    other = curator_api.patch(
        url, {"abbreviation": "TZ"}, format="json", **current(curator_api, url)
    )
    assert other.status_code == 200
    for method, body in [
        ("patch", {"abbreviation": "X"}),
        ("put", {"name": "x", "slug": "x", "modality": "OTHER"}),
    ]:
        response = getattr(curator_api, method)(
            url, body, format="json", HTTP_IF_MATCH=tag
        )
        assert response.status_code == 412, response.content
        assert "changed since you read it" in response.json()["detail"]
    assert Agent.objects.get(slug="trastuzumab").abbreviation == "TZ"


def test_a_current_if_match_lets_the_change_through(curator_api, world):
    url = "/api/v1/agents/trastuzumab/"
    tag = curator_api.get(url)["ETag"]
    response = curator_api.patch(
        url, {"abbreviation": "TZ"}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 200, response.content
    # The answer carries the new tag, the one a GET now gives.
    assert response["ETag"] != tag
    assert response["ETag"] == curator_api.get(url)["ETag"]
    assert (
        curator_api.patch(
            url, {"abbreviation": "T"}, format="json", HTTP_IF_MATCH=response["ETag"]
        ).status_code
        == 200
    )
    # "*" matches whatever the current version is.
    assert (
        curator_api.patch(
            url, {"abbreviation": "T2"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )


def test_if_match_guards_deletes_and_transitions(editor_api, world):
    url = "/api/v1/targets/PIK3CA/"
    assert editor_api.delete(url, HTTP_IF_MATCH='"stale"').status_code == 412
    assert editor_api.get(url).status_code == 200
    submitted = world["hidden"]["SUBMITTED"]
    claim_url = f"/api/v1/evidence/{submitted.uid}/"
    stale = editor_api.post(
        claim_url + "transition/",
        {"action": "accept"},
        format="json",
        HTTP_IF_MATCH='"stale"',
    )
    assert stale.status_code == 412
    current = editor_api.get(claim_url)["ETag"]
    accepted = editor_api.post(
        claim_url + "transition/",
        {"action": "accept"},
        format="json",
        HTTP_IF_MATCH=current,
    )
    assert accepted.status_code == 200


def test_a_weak_tag_never_satisfies_if_match(curator_api, world):
    url = "/api/v1/agents/trastuzumab/"
    tag = curator_api.get(url)["ETag"]
    response = curator_api.patch(
        url, {"abbreviation": "X"}, format="json", HTTP_IF_MATCH=f"W/{tag}"
    )
    assert response.status_code == 412
