"""The admin's upload page: preview an import file's changes, then confirm.

A curator uploads a PubMed XML, ClinicalTrials.gov JSON, BibTeX, RIS or
CSL-JSON file. The page runs the matching importer as a dry run on its first
PREVIEW_RECORDS records (a large file's full dry run would outlast a web
worker's timeout) and shows, record by record, what would change, with the
number of records in the file; the file waits in this instance's own upload
folder (settings.UPLOAD_DIR; its name in the session) until the curator
confirms, when the same importer runs for real with the curator as the
history's user. Uploads left waiting longer than UPLOAD_MAX_AGE are removed
at each upload and by `manage.py sweep_uploads`.

The importers are found in the registry (references.importers.registry),
where each app puts its own: references knows nothing of therapies.
"""

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .importers import registry
from .importers.base import ImportFailed

SESSION_KEY = "her2db_pending_imports"
MAX_BYTES = 50 * 1024 * 1024
# Records a preview shows; the import itself takes them all.
PREVIEW_RECORDS = 200

SUFFIXES = {".xml", ".json", ".bib", ".bibtex", ".ris"}


def detect_kind(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".xml":
        return "pubmed"
    if suffix == ".json" and (b'"protocolSection"' in head or b'"studies"' in head):
        return "ctgov"
    return "citations"


def kinds() -> dict[str, str]:
    """The registered importers: name -> the files they take."""
    return {i.name: i.description for i in registry.all_importers()}


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="PubMed XML (efetch), ClinicalTrials.gov JSON (API v2), "
        "BibTeX, RIS or CSL-JSON."
    )
    kind = forms.ChoiceField(choices=[], required=False, label="File type")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Tell from the file"), *kinds().items()]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(
                "Upload a .xml, .json, .bib, .ris file (the type is read from the "
                "name)."
            )
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB.")
        return upload


def import_view(request):
    """Upload → preview (a dry run) → confirm (the import), all in one page."""
    if not request.user.has_perm("references.add_citation"):
        raise PermissionDenied
    pending = request.session.get(SESSION_KEY, {})
    if request.method == "POST" and "token" in request.POST:
        return _confirm_or_cancel(request, pending)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        head = upload.read(4096)
        upload.seek(0)
        kind = form.cleaned_data["kind"] or detect_kind(upload.name, head)
        importer = registry.get(kind)
        _require(request, importer)
        path = _store(upload)
        try:
            summary = importer.import_files(
                [path],
                dry_run=True,
                user=request.user,
                progress=False,
                preview_limit=PREVIEW_RECORDS,
            )
        except ImportFailed as error:
            path.unlink(missing_ok=True)
            form.add_error("file", _strip(str(error), path, upload.name))
        else:
            token = secrets.token_urlsafe(16)
            pending[token] = {"path": str(path), "name": upload.name, "kind": kind}
            request.session[SESSION_KEY] = pending
            return _render(
                request,
                "Preview",
                summary=summary,
                token=token,
                name=upload.name,
                kind=importer.description,
            )
    return _render(request, "Import papers and trials", form=form)


def _confirm_or_cancel(request, pending):
    item = pending.pop(request.POST["token"], None)
    request.session[SESSION_KEY] = pending
    if item is None:
        messages.error(request, "That upload is no longer waiting; upload it again.")
        return redirect(reverse("admin-import"))
    path = Path(item["path"])
    try:
        if "confirm" not in request.POST:
            messages.info(request, f"Nothing was imported from {item['name']}.")
            return redirect(reverse("admin-import"))
        importer = registry.get(item["kind"])
        _require(request, importer)
        try:
            summary = importer.import_files(
                [path],
                user=request.user,
                reason=f"admin upload {item['name']}"[:100],
                progress=False,
            )
        except ImportFailed as error:
            messages.error(request, _strip(str(error), path, item["name"]))
            return redirect(reverse("admin-import"))
        return _render(
            request, "Imported", summary=summary, name=item["name"], done=True
        )
    finally:
        path.unlink(missing_ok=True)


def _require(request, importer) -> None:
    if not all(request.user.has_perm(p) for p in importer.permissions):
        raise PermissionDenied


def upload_dir() -> Path:
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def sweep_uploads(max_age: float | None = None) -> list[Path]:
    """Remove uploads older than ``max_age`` seconds (UPLOAD_MAX_AGE by
    default): previews nobody confirmed or cancelled. Returns what went."""
    if max_age is None:
        max_age = settings.UPLOAD_MAX_AGE
    cutoff = time.time() - max_age
    removed = []
    for old in upload_dir().iterdir():
        try:
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink()
                removed.append(old)
        except FileNotFoundError:  # swept by another worker meanwhile
            continue
    return removed


def _store(upload) -> Path:
    """Keep the upload for the confirm step, sweeping abandoned ones."""
    sweep_uploads()
    suffix = Path(upload.name).suffix.lower()
    path = upload_dir() / f"{secrets.token_hex(16)}{suffix}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def _strip(message: str, path: Path, name: str) -> str:
    """Errors name the stored file; show the curator's file name instead."""
    return message.replace(str(path), name)


def _render(request, title, **context):
    context.update(admin.site.each_context(request), title=title, kinds=kinds())
    return TemplateResponse(request, "references/admin_import.html", context)
