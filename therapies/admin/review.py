"""Admin for revisions of accepted claims, and what a claim's edit proposes."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from her2db.admin_history import rows_at
from references.models import Citation

from ..models import Evidence, EvidenceCitation, Revision
from ..models.review import CONTENT_FIELDS, content_of
from .filters import RevisionWorkFilter


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Why the revision is rejected; kept with it and shown to its author.",
    )


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """Proposed changes to accepted claims: the queue, and the review of each."""

    list_display = [
        "__str__",
        "claim",
        "status",
        "created_by",
        "created_at",
        "changes",
        "reviewed_by",
    ]
    list_filter = [RevisionWorkFilter, "status"]
    list_select_related = ["evidence", "created_by", "reviewed_by"]
    search_fields = ["note", "reason", "evidence__statement"]
    ordering = ["-created_at"]

    # Revisions belong to claims: whoever may see unpublished claims sees
    # them; they are made from a claim's page and kept once reviewed.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("therapies.view_unpublished_evidence")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="claim")
    def claim(self, obj):
        statement = obj.evidence.statement
        return statement if len(statement) <= 80 else statement[:77] + "…"

    @admin.display(description="changes")
    def changes(self, obj):
        return ", ".join(obj.changed)

    def offers(self, request, revision) -> dict:
        """The review actions this user may take on this revision."""
        open_ = revision.status == Revision.Status.SUBMITTED
        reviewer = request.user.has_perm("therapies.review_evidence")
        author = revision.created_by_id == request.user.pk
        return {
            "can_accept": open_ and reviewer and not author,
            "can_reject": open_ and reviewer,
            "author_note": (
                "You proposed this revision: another editor must accept it."
                if open_ and reviewer and author
                else ""
            ),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The claim as accepted beside the revision, with Accept and Reject."""
        revision = get_object_or_404(
            Revision.objects.select_related("evidence", "created_by", "reviewed_by"),
            pk=object_id,
        )
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        reject = RejectForm(request.POST if "_reject" in request.POST else None)
        here = reverse("admin:therapies_revision_change", args=[revision.pk])
        if request.method == "POST" and "_accept" in request.POST:
            try:
                revision.accept(request.user)
            except ObjectDoesNotExist as exc:  # a mechanism or paper deleted since
                messages.error(request, f"Not accepted: {exc}")
                return HttpResponseRedirect(here)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"Not accepted: {error_text(exc)}")
                return HttpResponseRedirect(here)
            messages.success(
                request, f"{revision} accepted: readers now see the revised claim."
            )
            return HttpResponseRedirect(here)
        if request.method == "POST" and "_reject" in request.POST and reject.is_valid():
            try:
                revision.reject(request.user, reject.cleaned_data["reason"])
            except ValidationError as exc:
                reject.add_error(None, exc)
            except PermissionDenied as exc:
                messages.error(request, f"Not rejected: {error_text(exc)}")
                return HttpResponseRedirect(here)
            else:
                messages.success(request, f"{revision} rejected.")
                return HttpResponseRedirect(here)
        current = content_of(revision.evidence)
        rows = [
            {
                "name": name.replace("_", " "),
                "current": _shown(name, current.get(name)),
                "proposed": _shown(name, revision.content.get(name)),
                "changed": current.get(name) != revision.content.get(name),
            }
            for name in revision.content
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": str(revision),
            "opts": self.opts,
            "revision": revision,
            "rows": rows,
            "stale": revision.status == Revision.Status.SUBMITTED
            and current != revision.base,
            "reject_form": reject,
            **self.offers(request, revision),
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/therapies/revision/review.html", context
        )


def _shown(name: str, value) -> list[str]:
    """A content value as lines to show: choices by label, lists one per line."""
    if name in CONTENT_FIELDS:
        value = dict(Evidence._meta.get_field(name).flatchoices).get(value, value)
    if isinstance(value, list):
        return [
            f"{v['citation']}: “{v['quote']}” {v['location']}".strip()
            if isinstance(v, dict)
            else str(v)
            for v in value
        ] or ["—"]
    return [str(value) if value not in (None, "") else "—"]


def action_label(action: str) -> str:
    return action.replace("_", " ").capitalize()


def content_from(data: dict, citations: list | None) -> dict:
    """A claim's content as a change form's cleaned data proposes it."""
    content = {name: data[name] for name in CONTENT_FIELDS if name in data}
    if data.get("mechanism"):
        content["mechanism"] = data["mechanism"].slug
    for name, key in (("agents", "slug"), ("trials", "nct_id")):
        if name in data:
            content[name] = sorted(getattr(o, key) for o in data[name])
    if citations is not None:
        content["citations"] = sorted(citations, key=lambda c: c["citation"])
    return content


def citations_of(formset) -> list[dict]:
    """The citation rows a valid inline formset proposes."""
    return [
        {
            "citation": data["citation"].citekey,
            "quote": data.get("quote", ""),
            "location": data.get("location", ""),
        }
        for data in (f.cleaned_data for f in formset.forms)
        if data and data.get("citation") and not data.get("DELETE")
    ]


def citations_at(record) -> list[dict]:
    """A claim's citation rows as they were at a history record."""
    relation = EvidenceCitation._meta.get_field("evidence").remote_field
    rows = rows_at(relation, record.id, record).values()
    keys = dict(
        Citation.objects.filter(pk__in=[r.citation_id for r in rows]).values_list(
            "pk", "citekey"
        )
    )
    return [
        {"citation": keys[r.citation_id], "quote": r.quote, "location": r.location}
        for r in rows
        if r.citation_id in keys
    ]


def save_retraction_marks(request, formset) -> None:
    """A reviewer's retraction mark is not content: it is saved at once."""
    for form in formset.forms:
        row = form.instance
        if row.pk and "retraction_reviewed" in form.changed_data:
            if form.cleaned_data.get("DELETE"):
                continue
            stored = EvidenceCitation.objects.get(pk=row.pk)
            stored.retraction_reviewed = form.cleaned_data["retraction_reviewed"]
            stored._history_user = request.user
            stored.save()


def error_text(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
