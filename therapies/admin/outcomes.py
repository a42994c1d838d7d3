"""Admin for trials' reported outcomes and each arm's value."""

from django.contrib import admin

from her2db.admin_base import CuratedAdmin

from ..models import Outcome, OutcomeArmResult, TrialArm

# What an outcome shows on its trial's page, a few fields a row so that the
# page fits 1280 px: the comparison and where it was read; each arm's value
# is on the outcome's own page.
OUTCOME_LINE = [
    ("endpoint", "event", "population"),
    ("analysis", "data_cutoff"),
    ("measure", "estimate", "ci_lower", "ci_upper"),
    ("p_qualifier", "p_value", "crossed_boundary"),
    ("citation", "locator"),
]


class OutcomeInline(admin.StackedInline):
    """A trial's outcomes, a block each; "Change" opens the arms' values."""

    model = Outcome
    fields = OUTCOME_LINE
    extra = 0
    show_change_link = True
    autocomplete_fields = ["citation"]


class OutcomeArmResultInline(admin.StackedInline):
    model = OutcomeArmResult
    extra = 0
    # A few fields a row, so that the page fits 1280 px.
    fields = [
        ("arm", "unit"),
        ("value", "ci_lower", "ci_upper", "not_reached"),
        ("timepoint_years", "events", "patients"),
    ]

    def get_formset(self, request, obj=None, **kwargs):
        request.her2db_outcome = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "arm":
            # The arms of this outcome's trial only (once it has a trial).
            outcome = getattr(request, "her2db_outcome", None)
            arms = TrialArm.objects.select_related("trial")
            kwargs["queryset"] = (
                arms.filter(trial=outcome.trial_id) if outcome else arms.none()
            )
            kwargs.setdefault(
                "help_text", "Save the outcome first; then its trial's arms are here."
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Outcome)
class OutcomeAdmin(CuratedAdmin):
    list_display = [
        "__str__",
        "endpoint",
        "population",
        "analysis",
        "data_cutoff",
        "measure",
        "estimate",
        "p_value",
        "citation",
    ]
    list_filter = ["endpoint", "analysis", "measure", "crossed_boundary"]
    list_select_related = ["trial", "citation"]
    search_fields = [
        "trial__nct_id",
        "trial__acronym",
        "event",
        "population",
        "citation__citekey",
    ]
    autocomplete_fields = ["trial", "citation"]
    fields = ["trial", *OUTCOME_LINE, "notes", "uid", "created_at", "updated_at"]
    readonly_fields = ["uid", "created_at", "updated_at"]
    inlines = [OutcomeArmResultInline]
