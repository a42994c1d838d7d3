from django import forms
from django.contrib import admin, messages
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from her2db.admin_base import CuratedAdmin, ThroughAutocompleteMixin, external_link
from her2db.admin_history import missing_links, plan_revert, rows_at
from references.models import Citation

from .models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    Evidence,
    EvidenceCitation,
    Mechanism,
    Revision,
    Target,
    Trial,
    TrialArm,
)
from .models.review import CONTENT_FIELDS, content_of


@admin.register(Target)
class TargetAdmin(CuratedAdmin):
    list_display = ["symbol", "name", "aliases", "hgnc_id", "uniprot_link"]
    search_fields = ["symbol", "name", "aliases", "hgnc_id", "uniprot_id"]
    readonly_fields = ["uniprot_link", "created_at", "updated_at"]

    @admin.display(description="UniProt")
    def uniprot_link(self, obj):
        url = (
            f"https://www.uniprot.org/uniprotkb/{obj.uniprot_id}"
            if obj.uniprot_id
            else ""
        )
        return external_link(url, obj.uniprot_id)


class AgentAliasInline(admin.TabularInline):
    model = AgentAlias
    extra = 0


class AgentTargetInline(admin.TabularInline):
    model = AgentTarget
    extra = 0
    autocomplete_fields = ["target"]


class ApprovalInline(admin.TabularInline):
    model = Approval
    extra = 0
    autocomplete_fields = ["citation"]
    fields = [
        "agency",
        "date",
        "indication",
        "her2_positive_breast",
        "accelerated",
        "reference",
        "citation",
    ]


@admin.register(Agent)
class AgentAdmin(CuratedAdmin):
    list_display = [
        "name",
        "abbreviation",
        "modality",
        "development_status",
        "target_list",
        "chembl_link",
        "drugbank_id",
    ]
    list_filter = ["modality", "development_status", "approvals__agency"]
    search_fields = [
        "name",
        "slug",
        "abbreviation",
        "aliases__alias",
        "chembl_id",
        "drugbank_id",
        "ncit_id",
    ]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AgentAliasInline, AgentTargetInline, ApprovalInline]
    readonly_fields = ["chembl_link", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "abbreviation",
                    "modality",
                    "development_status",
                    "mechanism_of_action",
                ]
            },
        ),
        (
            "External identifiers",
            {"fields": [("chembl_id", "chembl_link"), "drugbank_id", "ncit_id"]},
        ),
        (
            "Antibody-drug conjugate",
            {
                "fields": [
                    "payload",
                    "linker",
                    "linker_cleavable",
                    "drug_to_antibody_ratio",
                ],
                "classes": ["collapse"],
            },
        ),
        (None, {"fields": ["change_reason", "edit_token", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("targets")

    @admin.display(description="targets")
    def target_list(self, obj):
        return ", ".join(t.symbol for t in obj.targets.all())

    @admin.display(description="ChEMBL")
    def chembl_link(self, obj):
        return external_link(obj.chembl_url, obj.chembl_id)


@admin.register(Approval)
class ApprovalAdmin(CuratedAdmin):
    list_display = [
        "agent",
        "agency",
        "date",
        "indication",
        "her2_positive_breast",
        "accelerated",
        "reference",
    ]
    list_filter = ["agency", "her2_positive_breast", "accelerated"]
    list_select_related = ["agent"]
    search_fields = ["agent__name", "indication", "reference"]
    autocomplete_fields = ["agent", "citation"]
    date_hierarchy = "date"


@admin.register(Mechanism)
class MechanismAdmin(CuratedAdmin):
    list_display = ["name", "parent", "category", "gene_list", "n_evidence"]
    list_filter = ["category"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description", "genes__symbol"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent", "genes"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("genes")
            .annotate(n_evidence=Count("evidence", distinct=True))
            .order_by(*Mechanism._meta.ordering)  # GROUP BY drops Meta.ordering
        )

    @admin.display(description="genes")
    def gene_list(self, obj):
        return ", ".join(t.symbol for t in obj.genes.all())

    @admin.display(description="evidence", ordering="n_evidence")
    def n_evidence(self, obj):
        return obj.n_evidence


class TrialArmInline(ThroughAutocompleteMixin, admin.StackedInline):
    model = TrialArm
    extra = 0
    autocomplete_fields = ["agents"]


@admin.register(Trial)
class TrialAdmin(CuratedAdmin):
    list_display = [
        "nct_id",
        "acronym",
        "phase",
        "status",
        "setting",
        "enrollment",
        "registry_link",
    ]
    list_filter = ["phase", "status", "setting"]
    search_fields = [
        "nct_id",
        "acronym",
        "title",
        "official_title",
        "sponsor",
        "arms__agents__name",
    ]
    autocomplete_fields = ["publications"]
    inlines = [TrialArmInline]
    readonly_fields = ["registry_link", "created_at", "updated_at"]

    @admin.display(description="ClinicalTrials.gov")
    def registry_link(self, obj):
        return external_link(obj.registry_url, obj.nct_id)


class EvidenceCitationInline(admin.TabularInline):
    model = EvidenceCitation
    extra = 0
    min_num = 1
    autocomplete_fields = ["citation"]
    fields = ["citation", "quote", "location", "retraction_reviewed"]


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
        "__str__",
        "mechanism",
        "effect",
        "direction",
        "level",
        "status",
        "retraction_flag",
    ]
    list_filter = [
        "status",
        RetractedCitationFilter,
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

    @admin.display(description="retracted source", boolean=True)
    def retraction_flag(self, obj):
        return obj.cites_retracted

    def render_change_form(self, request, context, add=False, change=False, **kw):
        obj = context.get("original")
        context["transitions"] = [
            (_label(action), action)
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
        if action not in obj.allowed_transitions(request.user):
            problem = action == "accept" and obj.independence_problem(request.user)
            return problem or f"You may not {_label(action).lower()} this claim now."
        reviewer = Evidence.TRANSITIONS[action][2] == "review_evidence"
        if reviewer and self.has_edits(request, form):
            return (
                f"You have unsaved changes: {_label(action).lower()} does not save "
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
                messages.success(request, f"{_label(action)}: {done} claim(s).")
            for claim, exc in failed:
                messages.error(request, f"{claim}: {_message(exc)}")
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{_label(action)} evidence",
            "claims": claims,
            "form": form,
            "opts": self.model._meta,
            "action": action,
            "back": back,
        }
        return TemplateResponse(
            request, "admin/therapies/evidence/transition.html", context
        )


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
    list_filter = ["status"]
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
                messages.error(request, f"Not accepted: {_message(exc)}")
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
                messages.error(request, f"Not rejected: {_message(exc)}")
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


def _label(action: str) -> str:
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


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
