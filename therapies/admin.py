from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from her2db.admin_base import CuratedAdmin, ThroughAutocompleteMixin, external_link

from .models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    Evidence,
    EvidenceCitation,
    Mechanism,
    Target,
    Trial,
    TrialArm,
)


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
            (action.replace("_", " ").capitalize(), action)
            for action in (obj.allowed_transitions(request.user) if obj else [])
        ]
        return super().render_change_form(request, context, add, change, **kw)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

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
        form = TransitionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            done = 0
            for claim in claims:
                try:
                    with transaction.atomic():
                        claim.transition(
                            action, request.user, form.cleaned_data["reason"]
                        )
                    done += 1
                except (ValidationError, PermissionDenied) as exc:
                    messages.error(request, f"{claim}: {_message(exc)}")
            if done:
                messages.success(
                    request,
                    f"{action.replace('_', ' ').capitalize()}: {done} claim(s).",
                )
            return HttpResponseRedirect(reverse("admin:therapies_evidence_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.replace('_', ' ').capitalize()} evidence",
            "claims": claims,
            "form": form,
            "opts": self.model._meta,
            "action": action,
        }
        return TemplateResponse(
            request, "admin/therapies/evidence/transition.html", context
        )


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
