"""The admin's upload page: preview, then confirm, with permissions."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from references.admin_import import SESSION_KEY
from references.models import Citation
from tests.importers import DATA
from therapies.models import Trial

pytestmark = pytest.mark.django_db
URL = "/admin/import/"


def upload(client, name, **extra):
    data = SimpleUploadedFile(name, (DATA / name).read_bytes())
    return client.post(URL, {"file": data, **extra})


def pending(client) -> dict:
    return client.session[SESSION_KEY]


def test_route_is_the_admin_import_page():
    assert reverse("admin-import") == URL


def test_admin_index_links_to_the_import_page_for_curators(curator_client):
    page = curator_client.get("/admin/")
    assert URL in page.content.decode()


def test_admin_index_has_no_link_without_the_permission(client, nobody):
    nobody.is_staff = True
    nobody.save()
    client.force_login(nobody)
    page = client.get("/admin/")
    assert page.status_code == 200 and URL not in page.content.decode()


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_add_citation_is_refused(client, nobody):
    nobody.is_staff = True
    nobody.save()
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_preview_shows_the_changes_and_writes_nothing(curator_client):
    response = upload(curator_client, "pubmed_29963580.xml")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Would write: 1 created, 0 updated, 0 unchanged, 0 skipped." in text
    assert "PMID 29963580 as Guo2018" in text
    assert 'name="confirm"' in text
    assert not Citation.objects.exists()
    (item,) = pending(curator_client).values()
    assert Path(item["path"]).is_file() and item["kind"] == "pubmed"


def test_confirm_imports_with_the_curator_in_the_history(curator_client, curator):
    upload(curator_client, "pubmed_29963580.xml")
    (token,) = pending(curator_client)
    path = Path(pending(curator_client)[token]["path"])
    response = curator_client.post(URL, {"token": token, "confirm": "Import"})
    assert response.status_code == 200
    assert "Done: 1 created" in response.content.decode()
    row = Citation.objects.get(pmid="29963580").history.get()
    assert row.history_user == curator
    assert row.history_change_reason == "admin upload pubmed_29963580.xml"
    assert not path.exists() and pending(curator_client) == {}


def test_cancel_writes_nothing_and_forgets_the_file(curator_client):
    upload(curator_client, "pubmed_29963580.xml")
    (token,) = pending(curator_client)
    path = Path(pending(curator_client)[token]["path"])
    response = curator_client.post(URL, {"token": token, "cancel": "Cancel"})
    assert response.status_code == 302
    assert not Citation.objects.exists() and not path.exists()


def test_an_unknown_token_asks_for_a_new_upload(curator_client):
    response = curator_client.post(
        URL, {"token": "stale", "confirm": "Import"}, follow=True
    )
    assert "no longer waiting" in response.content.decode()


def test_clinicaltrials_gov_json_is_recognised_and_imported(curator_client, curated):
    response = upload(curator_client, "ctgov_NCT05894239.json")
    assert "Would write: 1 created" in response.content.decode()
    (token,) = pending(curator_client)
    assert pending(curator_client)[token]["kind"] == "ctgov"
    curator_client.post(URL, {"token": token, "confirm": "Import"})
    assert Trial.objects.filter(nct_id="NCT05894239").exists()


def test_trial_files_need_add_trial_too(client, django_user_model):
    user = django_user_model.objects.create(username="librarian", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(
            codename="add_citation", content_type__app_label="references"
        )
    )
    client.force_login(user)
    assert upload(client, "pubmed_31479209.xml").status_code == 200
    assert upload(client, "ctgov_NCT05894239.json").status_code == 403


def test_a_malformed_file_is_reported_with_its_own_name(curator_client):
    broken = SimpleUploadedFile("mine.xml", b"<?xml version='1.0'?><Pubmed")
    response = curator_client.post(URL, {"file": broken})
    text = response.content.decode()
    assert response.status_code == 200
    assert "mine.xml" in text and "Nothing was written" in text
    assert SESSION_KEY not in curator_client.session or not pending(curator_client)


def test_other_file_types_are_refused(curator_client):
    response = curator_client.post(
        URL, {"file": SimpleUploadedFile("notes.txt", b"hello")}
    )
    assert "Upload a .xml, .json, .bib, .ris file" in response.content.decode()
