"""Admin for evidence claims: editing, review transitions, reverts."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from her2db.admin_base import CuratedAdmin, warning_icon
from her2db.admin_history import missing_links, plan_revert

from ..models import Agent, Evidence, EvidenceCitation, Revision
from .filters import (
    AgentFilter,
    CitationFilter,
    MechanismFilter,
    TargetFilter,
    TrialFilter,
    WorkFilter,
)
from .review import (
    action_label,
    citations_at,
    citations_of,
    content_from,
    error_text,
    save_retraction_marks,
)


class EvidenceCitationInline(admin.StackedInline):
    model = EvidenceCitation
    extra = 0
    min_num = 1
    autocomplete_fields = ["citation"]
    fields = [
        ("citation", "retraction"),
        "quote",
        ("location", "retraction_reviewed"),
    ]
    readonly_fields = ["retraction"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 70})}
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("citation")

    @admin.display(description="retraction")
    def retraction(self, obj):
        citation = obj.citation if obj.citation_id else None
        return retraction_warning(citation) if citation else ""


def retraction_warning(citation):
    """A warning, with the date, for a retracted paper; "—" for the others."""
    if not citation.retracted:
        return "—"
    when = f" {citation.retraction_date:%Y-%m-%d}" if citation.retraction_date else ""
    return format_html(
        '<span class="her2db-retracted"><img src="{}" alt=""> {} retracted{}</span>',
        static("admin/img/icon-alert.svg"),
        citation.citekey,
        when,
    )


class RetractedCitationFilter(admin.SimpleListFilter):
    title = "cites a retracted paper"
    parameter_name = "retracted"

    def lookups(self, request, model_admin):
        return [("yes", "Yes, not yet reviewed"), ("no", "No")]

    def queryset(self, request, queryset):
        flagged = Evidence.objects.citing_retracted().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=flagged)
        if self.value() == "no":
            return queryset.exclude(pk__in=flagged)
        return queryset


class TransitionForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Required to reject, send back or retire; kept in the history.",
    )

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = needs_reason
        self.fields["reason"].error_messages["required"] = (
            "A reason is required for this action."
        )


def _transition_action(action: str):
    def run(modeladmin, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        url = reverse("admin:therapies_evidence_transition", args=[action])
        return HttpResponseRedirect(f"{url}?ids={ids}")

    label = action.replace("_", " ")
    run.__name__ = f"transition_{action}"
    return admin.action(description=f"{label.capitalize()} selected evidence")(run)


@admin.register(Evidence)
class EvidenceAdmin(CuratedAdmin):
    list_display = [
        "claim_id",
        "short_statement",
        "agent_links",
        "mechanism_link",
        "effect",
        "level",
        "status",
        "retraction_flag",
    ]
    list_display_links = ["claim_id", "short_statement"]
    list_filter = [
        WorkFilter,
        "status",
        RetractedCitationFilter,
        AgentFilter,
        MechanismFilter,
        TrialFilter,
        CitationFilter,
        TargetFilter,
        "level",
        "effect",
        "direction",
        "mechanism__category",
        "origin",
        "model_system",
    ]
    list_select_related = ["mechanism"]
    search_fields = [
        "statement",
        "agents__name",
        "agents__aliases__alias",
        "mechanism__name",
        "citations__citekey",
        "citations__pmid",
        "trials__nct_id",
        "trials__acronym",
    ]
    autocomplete_fields = ["agents", "mechanism", "trials"]
    inlines = [EvidenceCitationInline]
    readonly_fields = [
        "status",
        "status_reason",
        "created_by",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "uid",
        "created_at",
        "updated_at",
    ]
    actions = [_transition_action(a) for a in Evidence.TRANSITIONS]

    def get_actions(self, request):
        """Only the review actions this user's rights allow."""
        actions = super().get_actions(request)
        for action, (_, _, perm, _) in Evidence.TRANSITIONS.items():
            if not request.user.has_perm(f"therapies.{perm}"):
                actions.pop(f"transition_{action}", None)
        return actions

    def get_queryset(self, request):
        flagged = Evidence.objects.citing_retracted().filter(pk=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("agents", queryset=Agent.objects.only("id", "name"))
            )
            .annotate(cites_retracted=Exists(flagged))
        )

    # The claim template names the form's blocks; CuratedAdmin's would hide it.
    change_form_template = None

    @property
    def media(self):
        widget = AutocompleteSelect(
            Evidence._meta.get_field("mechanism"), self.admin_site
        )
        return (
            super().media
            + widget.media
            + forms.Media(js=["her2db/autocomplete_filter.js"])
        )

    @admin.display(description="id", ordering="id")
    def claim_id(self, obj):
        return obj.pk

    @admin.display(description="statement")
    def short_statement(self, obj):
        return Truncator(obj.statement).chars(70)

    @admin.display(description="agents")
    def agent_links(self, obj):
        return format_html_join(
            " + ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:therapies_agent_change", args=[a.pk]), a.name)
                for a in obj.agents.all()
            ),
        )

    @admin.display(description="mechanism", ordering="mechanism__name")
    def mechanism_link(self, obj):
        url = reverse("admin:therapies_mechanism_change", args=[obj.mechanism_id])
        return format_html('<a href="{}">{}</a>', url, obj.mechanism.name)

    @admin.display(description="retracted source", ordering="cites_retracted")
    def retraction_flag(self, obj):
        return warning_icon(obj.cites_retracted, "Cites a retracted paper")

    def render_change_form(self, request, context, add=False, change=False, **kw):
        obj = context.get("original")
        context["transitions"] = [
            (action_label(action), action)
            for action in (obj.allowed_transitions(request.user) if obj else [])
        ]
        context["revisions"] = (
            obj.revisions.exclude(status=Revision.Status.ACCEPTED)
            .select_related("created_by")
            .order_by("-created_at")
            if obj
            else []
        )
        context["accepted"] = bool(obj and obj.status == Evidence.Status.ACCEPTED)
        context["retracted_citations"] = (
            [
                retraction_warning(link.citation)
                for link in obj.evidence_citations.filter(
                    citation__retracted=True
                ).select_related("citation")
            ]
            if obj
            else []
        )
        return super().render_change_form(request, context, add, change, **kw)

    # Saving: accepted claims change through revisions; review buttons save
    # a curator's pending edits first and refuse a reviewer's.

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        action = request.POST.get("_transition") if request.method == "POST" else ""
        if not action or obj is None:
            return form
        model_admin = self

        class TransitionCheckedForm(form):
            def clean(self):
                cleaned = super().clean()
                problem = model_admin.transition_problem(request, obj, action, self)
                if problem:
                    raise forms.ValidationError(problem, code="transition")
                return cleaned

        return TransitionCheckedForm

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        request.her2db_formsets = formsets  # the form's check needs the inlines
        return formsets, inline_instances

    def has_edits(self, request, form) -> bool:
        """Does the submitted page change anything the claim stores?"""
        fields = set(form.changed_data) - {"change_reason", "edit_token"}
        formsets = getattr(request, "her2db_formsets", [])
        return bool(fields) or any(fs.has_changed() for fs in formsets)

    def transition_problem(self, request, obj, action, form) -> str:
        """Why this review button may not be used now ("" if it may)."""
        if action not in Evidence.TRANSITIONS:
            return "No such review action."
        verb = action_label(action).lower()
        if action not in obj.allowed_transitions(request.user):
            problem = action == "accept" and obj.independence_problem(request.user)
            return problem or f"You may not {verb} this claim now."
        reviewer = Evidence.TRANSITIONS[action][2] == "review_evidence"
        if reviewer and self.has_edits(request, form):
            return (
                f"You have unsaved changes: {verb} does not save "
                "them. Save them first (a claim is reviewed by someone who did not "
                "change it), or reload the page to discard them."
            )
        return ""

    def proposes(self, obj, change) -> bool:
        return change and obj.status == Evidence.Status.ACCEPTED

    def save_model(self, request, obj, form, change):
        if request.POST.get("_transition") and not self.has_edits(request, form):
            obj._her2db_unsaved = True  # nothing to save before the review action
            return
        revert = getattr(request, "her2db_revert", None)
        if self.proposes(obj, change):
            if revert is not None:  # a revert of an accepted claim: a revision
                citations = citations_at(revert.record)
                revert.proposed = self.propose(request, obj, form, citations)
                form.save_m2m = lambda: None  # the links wait for the review too
            return  # save_related proposes, with the inlines' content
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        if getattr(obj, "_her2db_unsaved", False):
            return
        if not self.proposes(obj, change):
            return super().save_related(request, form, formsets, change)
        citations = None
        for formset in formsets:
            if formset.model is EvidenceCitation:
                citations = citations_of(formset)
                save_retraction_marks(request, formset)
        self.propose(request, obj, form, citations)

    def propose(self, request, obj, form, citations):
        content = content_from(form.cleaned_data, citations)
        try:
            obj._proposed_revision = Revision.propose(
                Evidence.objects.get(pk=obj.pk),
                content,
                request.user,
                note=form.cleaned_data.get("change_reason", ""),
            )
        except ValidationError:
            obj._proposed_revision = None
        return obj._proposed_revision

    def construct_change_message(self, request, form, formsets, add=False):
        obj = form.instance
        if hasattr(obj, "_proposed_revision") or hasattr(obj, "_her2db_unsaved"):
            return ""  # the inlines were not saved; log_change says what happened
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request, obj, message):
        if getattr(obj, "_her2db_unsaved", False):
            return None
        if hasattr(obj, "_proposed_revision"):
            revision = obj._proposed_revision
            if revision is None:
                return None
            message = f"Proposed revision {revision.pk}."
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        change_url = reverse("admin:therapies_evidence_change", args=[obj.pk])
        if hasattr(obj, "_proposed_revision"):
            revision = obj._proposed_revision
            if revision is None:
                messages.warning(
                    request,
                    "Nothing to review: the claim's content is as accepted.",
                )
            else:
                messages.success(
                    request,
                    f"Saved as revision {revision.pk}, waiting for an editor's "
                    "review. Readers see the accepted claim until then.",
                )
            return HttpResponseRedirect(change_url)
        action = request.POST.get("_transition")
        if action:
            if not getattr(obj, "_her2db_unsaved", False):
                messages.success(request, "Your changes were saved.")
            url = reverse("admin:therapies_evidence_transition", args=[action])
            return HttpResponseRedirect(f"{url}?ids={obj.pk}&next=claim")
        return super().response_change(request, obj)

    def revert_plan(self, request, record):
        if Evidence.objects.filter(
            pk=record.id, status=Evidence.Status.ACCEPTED
        ).exists():
            # Nothing is written now: the revision is applied when accepted.
            plan = plan_revert(record)
            plan.problems.extend(missing_links(record))
            plan.steps = []
            return plan
        return super().revert_plan(request, record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        accepted = Evidence.objects.filter(
            pk=object_id, status=Evidence.Status.ACCEPTED
        ).exists()
        context = extra_context or {}
        if accepted:
            context["revert_proposes"] = (
                "This claim is accepted: reverting proposes this version, with "
                "its agents, trials and citations, as a revision that another "
                "editor reviews."
            )
        return super().history_form_view(request, object_id, version_id, context)

    def get_urls(self):
        return [
            path(
                "transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name="therapies_evidence_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, action):
        """Confirm a review transition for one or many claims, with a reason."""
        if action not in Evidence.TRANSITIONS:
            raise Http404("No such transition.")
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()]
        claims = list(self.get_queryset(request).filter(pk__in=ids))
        back = reverse("admin:therapies_evidence_changelist")
        if request.GET.get("next") == "claim" and len(claims) == 1:
            back = reverse("admin:therapies_evidence_change", args=[claims[0].pk])
        needs_reason = Evidence.TRANSITIONS[action][3]
        form = TransitionForm(request.POST or None, needs_reason=needs_reason)
        if request.method == "POST" and form.is_valid():
            done, failed = 0, []
            for claim in claims:
                try:
                    with transaction.atomic():
                        claim.transition(
                            action, request.user, form.cleaned_data["reason"]
                        )
                    done += 1
                except (ValidationError, PermissionDenied) as exc:
                    failed.append((claim, exc))
            if done:
                messages.success(request, f"{action_label(action)}: {done} claim(s).")
            for claim, exc in failed:
                messages.error(request, f"{claim}: {error_text(exc)}")
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action_label(action)} evidence",
            "claims": claims,
            "form": form,
            "opts": self.model._meta,
            "action": action,
            "back": back,
        }
        return TemplateResponse(
            request, "admin/therapies/evidence/transition.html", context
        )
