"""Admin uploads: a folder of the instance's own, a quick preview of a large
file (its first records, and how many it holds), abandoned uploads swept."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from references.admin_import import PREVIEW_RECORDS, SESSION_KEY
from references.models import Citation
from tests.bench.imports import generate
from tests.importers import DATA

pytestmark = pytest.mark.django_db
URL = "/admin/import/"


def upload(client, path: Path, name: str | None = None):
    data = SimpleUploadedFile(name or path.name, path.read_bytes())
    return client.post(URL, {"file": data})


def test_the_upload_folder_is_the_instances_own_by_default(monkeypatch):
    import importlib

    import her2db.settings

    monkeypatch.delenv("UPLOAD_DIR", raising=False)
    fresh = importlib.reload(her2db.settings)
    assert fresh.UPLOAD_DIR == fresh.BASE_DIR / "uploads"
    ignored = (fresh.BASE_DIR / ".gitignore").read_text().split()
    assert "/uploads/" in ignored


def test_an_upload_waits_in_the_configured_folder(curator_client, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "instance-uploads"
    upload(curator_client, DATA / "pubmed_29963580.xml")
    (waiting,) = curator_client.session[SESSION_KEY].values()
    assert Path(waiting["path"]).parent == settings.UPLOAD_DIR
    assert (settings.UPLOAD_DIR.stat().st_mode & 0o777) == 0o700


@pytest.mark.slow
def test_a_large_file_previews_its_first_records_then_imports_them_all(
    curator_client, tmp_path
):
    records = 3 * PREVIEW_RECORDS
    big = tmp_path / "big.xml"
    generate(records, big)
    started = time.monotonic()
    response = upload(curator_client, big)
    took = time.monotonic() - started
    text = response.content.decode()
    assert response.status_code == 200
    assert (
        f"Previewed the first {PREVIEW_RECORDS} records of the {records:,} in "
        "the file; importing reads them all." in text
    )
    assert 'name="confirm"' in text
    assert not Citation.objects.exists()
    # A third of the file's dry run, at most: far inside a worker's timeout.
    print(f"preview of {records} records ({big.stat().st_size:,} bytes): {took:.1f}s")

    (token,) = curator_client.session[SESSION_KEY]
    done = curator_client.post(URL, {"token": token, "confirm": "Import"})
    assert done.status_code == 200
    assert Citation.objects.count() == records


def test_a_preview_of_a_small_file_is_the_whole_file(curator_client):
    text = upload(curator_client, DATA / "pubmed_29963580.xml").content.decode()
    assert "Previewed the first" not in text


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_abandoned_uploads_are_swept_at_the_next_upload(curator_client, settings):
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    old, recent = folder / "old.xml", folder / "recent.xml"
    old.write_text("<abandoned/>")
    recent.write_text("<waiting/>")
    age(old, 25)
    age(recent, 1)
    upload(curator_client, DATA / "pubmed_29963580.xml")
    assert not old.exists()
    assert recent.exists()


def test_sweep_uploads_command_removes_abandoned_uploads(settings, capsys):
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        child.unlink()
    old, recent = folder / "old.ris", folder / "recent.ris"
    old.write_text("TY  - JOUR\nER  -\n")
    recent.write_text("TY  - JOUR\nER  -\n")
    age(old, 30)
    call_command("sweep_uploads")
    assert not old.exists() and recent.exists()
    assert capsys.readouterr().out == "Removed 1 abandoned uploads.\n"
    call_command("sweep_uploads", "--hours", "0")
    assert not recent.exists()
