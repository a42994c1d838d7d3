"""Admin for clinical trials and their arms."""

from django.contrib import admin

from her2db.admin_base import CuratedAdmin, ThroughAutocompleteMixin, external_link
from therapies.admin_rules import TrialArmFormSet

from ..models import Trial, TrialArm
from .filters import TrialFilter
from .outcomes import OutcomeInline
from .related import RelatedEvidenceMixin


class TrialArmInline(ThroughAutocompleteMixin, admin.StackedInline):
    model = TrialArm
    formset = TrialArmFormSet
    extra = 0
    autocomplete_fields = ["agents"]


@admin.register(Trial)
class TrialAdmin(RelatedEvidenceMixin, CuratedAdmin):
    evidence_filter = TrialFilter
    list_display = [
        "nct_id",
        "acronym",
        "phase",
        "status",
        "setting",
        "enrollment",
        "registry_link",
    ]
    list_filter = ["phase", "status", "setting", "population"]
    search_fields = [
        "nct_id",
        "acronym",
        "title",
        "official_title",
        "sponsor",
        "arms__agents__name",
    ]
    autocomplete_fields = ["publications"]
    inlines = [TrialArmInline, OutcomeInline]
    readonly_fields = ["registry_link", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        """Each registry date on one line with whether it is actual or the
        sponsor's estimate."""
        fields = list(super().get_fields(request, obj))
        for date in ("start_date", "completion_date"):
            if date in fields and f"{date}_type" in fields:
                fields.remove(f"{date}_type")
                fields[fields.index(date)] = (date, f"{date}_type")
        return fields

    @admin.display(description="ClinicalTrials.gov")
    def registry_link(self, obj):
        return external_link(obj.registry_url, obj.nct_id)
