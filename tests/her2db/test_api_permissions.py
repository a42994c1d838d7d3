"""Who may write what: anonymous clients and accounts without rights change
nothing; curators add and change; editors also delete."""

import pytest
from django.test import Client

from references.models import Citation
from tests.api_clients import current
from tests.conftest import make_agent, make_citation, make_mechanism, make_target
from therapies.models import Agent, Evidence, Mechanism, Target, Trial

pytestmark = pytest.mark.django_db

# A valid new object of each resource, written by identifiers.
NEW = {
    "agents": {"name": "zanidatamab", "slug": "zanidatamab", "modality": "OTHER"},
    "targets": {"symbol": "ERBB3", "name": "erb-b2 receptor tyrosine kinase 3"},
    "mechanisms": {"slug": "new-mech", "name": "New", "category": "DOWNSTREAM"},
    "trials": {
        "nct_id": "NCT01234567",
        "title": "A new trial",
        "arms": [{"label": "Observation", "role": "NO_INTERVENTION"}],
    },
    "citations": {"citekey": "New2024", "title": "A new paper"},
}
MODELS = {
    "agents": Agent,
    "targets": Target,
    "mechanisms": Mechanism,
    "trials": Trial,
    "citations": Citation,
    "evidence": Evidence,
}


def existing(resource: str) -> str:
    """Create one object of the resource and return its URL."""
    if resource == "agents":
        return f"/api/v1/agents/{make_agent().slug}/"
    if resource == "targets":
        return f"/api/v1/targets/{make_target().symbol}/"
    if resource == "mechanisms":
        return f"/api/v1/mechanisms/{make_mechanism().slug}/"
    if resource == "trials":
        return (
            "/api/v1/trials/"
            + Trial.objects.create(nct_id="NCT07654321", title="Old").nct_id
            + "/"
        )
    return f"/api/v1/citations/{make_citation().citekey}/"


def snapshot() -> dict:
    return {name: list(model.objects.values()) for name, model in MODELS.items()}


def writes(resource: str, url: str) -> list[tuple]:
    """Every kind of write to a resource: (method, URL, body)."""
    return [
        ("post", f"/api/v1/{resource}/", NEW[resource]),
        ("put", url, NEW[resource]),
        ("patch", url, {"name": "changed"}),
        ("delete", url, None),
    ]


@pytest.mark.parametrize("resource", NEW)
def test_anonymous_writes_are_401_and_change_nothing(anon, resource):
    url = existing(resource)
    before = snapshot()
    for method, target, body in writes(resource, url):
        response = getattr(anon, method)(target, body, format="json")
        assert response.status_code == 401, (method, response.content)
        assert response["WWW-Authenticate"] == "Token"
    assert snapshot() == before


@pytest.mark.parametrize("resource", NEW)
def test_accounts_without_rights_get_403_and_change_nothing(nobody_api, resource):
    url = existing(resource)
    before = snapshot()
    for method, target, body in writes(resource, url):
        response = getattr(nobody_api, method)(target, body, format="json")
        assert response.status_code == 403, (method, response.content)
    assert snapshot() == before
    # Reading is still open to them.
    assert nobody_api.get(url).status_code == 200


@pytest.mark.parametrize("resource", NEW)
def test_curators_create_and_change_but_do_not_delete(curator_api, resource):
    created = curator_api.post(f"/api/v1/{resource}/", NEW[resource], format="json")
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    patched = curator_api.patch(
        url, {"name": "Renamed"}, format="json", **current(curator_api, url)
    )
    if resource in ("trials", "citations"):  # no name: a title instead
        patched = curator_api.patch(
            url, {"title": "Retitled"}, format="json", **current(curator_api, url)
        )
    assert patched.status_code == 200, patched.content
    before = snapshot()
    assert curator_api.delete(url, **current(curator_api, url)).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("resource", NEW)
def test_editors_delete(editor_api, resource):
    url = existing(resource)
    model = MODELS[resource]
    count = model.objects.count()
    response = editor_api.delete(url, **current(editor_api, url))
    assert response.status_code == 204, response.content
    assert model.objects.count() == count - 1
    assert editor_api.get(url).status_code == 404


def test_curators_delete_their_own_draft_evidence_only_with_the_permission(
    curator_api, editor_api, world
):
    draft = world["hidden"]["DRAFT"]
    assert (
        curator_api.delete(
            f"/api/v1/evidence/{draft.uid}/",
            **current(curator_api, f"/api/v1/evidence/{draft.uid}/"),
        ).status_code
        == 403
    )
    assert (
        editor_api.delete(
            f"/api/v1/evidence/{draft.uid}/",
            **current(editor_api, f"/api/v1/evidence/{draft.uid}/"),
        ).status_code
        == 204
    )
    assert not Evidence.objects.filter(pk=draft.pk).exists()


def test_session_writes_need_the_csrf_token(curator):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(curator)
    body = NEW["targets"]
    refused = strict.post("/api/v1/targets/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    strict.get("/api/v1/targets/")  # the browsable API sets the cookie on forms
    token = strict.get("/api/auth/login/").cookies["csrftoken"].value
    accepted = strict.post(
        "/api/v1/targets/",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201, accepted.content
