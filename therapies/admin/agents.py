"""Admin for targets, agents and their approvals."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from her2db.admin_base import CuratedAdmin, CuratedForm, external_link
from her2db.admin_history import rows_at
from therapies.admin_rules import ApprovalFormSet, check_approval
from therapies.rules import LAST_APPROVAL, agent_problems, agents_left_unapproved

from ..models import Agent, AgentAlias, AgentTarget, Approval, Target
from .filters import AgentFilter, TargetFilter
from .related import RelatedEvidenceMixin

ADC = "Antibody-drug conjugate"
NO_APPROVAL_THEN = (
    "It was marked approved with no approval on record, and an approved agent "
    "has at least one."
)


@admin.register(Target)
class TargetAdmin(RelatedEvidenceMixin, CuratedAdmin):
    evidence_filter = TargetFilter
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


class ApprovalInline(admin.StackedInline):
    """Stacked: an indication is a sentence, too long for a table's cell."""

    model = Approval
    formset = ApprovalFormSet
    extra = 0
    autocomplete_fields = ["citation", "trial"]
    fields = [
        ("agency", "date", "date_precision"),
        "indication",
        ("her2_positive_breast", "accelerated"),
        ("reference", "citation"),
        "trial",
    ]


@admin.register(Agent)
class AgentAdmin(RelatedEvidenceMixin, CuratedAdmin):
    evidence_filter = AgentFilter
    list_display = [
        "name",
        "abbreviation",
        "modality",
        "development_status",
        "target_list",
        "chembl_link",
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
            ADC,
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

    def get_fieldsets(self, request, obj=None):
        """The conjugate's fieldset is open on a conjugate, folded on the rest."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.modality != Agent.Modality.ANTIBODY_DRUG_CONJUGATE:
            return fieldsets
        return [
            (name, options | {"classes": []} if name == ADC else options)
            for name, options in fieldsets
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("targets")

    def revert_plan(self, request, record):
        """A version comes back only whole and within the rules: one marked
        approved brings back an approval with it (a revert saves the agent and
        its rows past the approvals formset)."""
        plan = super().revert_plan(request, record)
        then = rows_at(Agent._meta.get_field("approvals"), record.id, record)
        if agent_problems(record.development_status, list(then.values())):
            plan.problems.append(NO_APPROVAL_THEN)
        return plan

    @admin.display(description="targets")
    def target_list(self, obj):
        return ", ".join(t.symbol for t in obj.targets.all())

    @admin.display(description="ChEMBL")
    def chembl_link(self, obj):
        return external_link(obj.chembl_url, obj.chembl_id)


class ApprovalForm(CuratedForm):
    """An approval on its own page, held to the same rules as in its agent's:
    moved to another agent, it cannot leave an approved agent without one."""

    def clean(self):
        cleaned = super().clean()
        check_approval(self)
        if self.instance.pk and "agent" in self.changed_data:
            for agent in agents_left_unapproved([self.instance]):
                self.add_error("agent", LAST_APPROVAL.format(agent=agent))
        return cleaned


@admin.register(Approval)
class ApprovalAdmin(CuratedAdmin):
    form = ApprovalForm
    list_display = ["agent", *Approval.COLUMNS]
    list_filter = ["agency", "her2_positive_breast", "accelerated"]
    list_select_related = ["agent"]
    search_fields = ["agent__name", "indication", "reference"]
    autocomplete_fields = ["agent", "citation", "trial"]
    date_hierarchy = "date"

    def get_deleted_objects(self, objs, request):
        """An approved agent's last approval is kept, as a protected row is."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        for agent in agents_left_unapproved(objs):
            url = reverse("admin:therapies_agent_change", args=[agent.pk])
            protected.append(
                format_html(
                    '<a href="{}">{}</a>', url, LAST_APPROVAL.format(agent=agent)
                )
            )
        return deleted, counts, perms_needed, protected
