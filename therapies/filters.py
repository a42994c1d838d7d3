"""The filters of the therapies lists: agents, targets, mechanisms, trials,
evidence, changes."""

import re
import uuid
from datetime import UTC

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from her2db.api.filters import (
    BooleanFilter,
    FilterSet,
    IdentifierFilter,
    MultipleValueFilter,
    SearchFilterSet,
    choices_filter,
    text_filter,
)
from her2db.registry import registry
from references.models import Citation

from .models import (
    Agent,
    AgentTarget,
    Approval,
    ChangeEntry,
    Evidence,
    EvidenceAgent,
    EvidenceCitation,
    EvidenceTrial,
    Mechanism,
    MechanismGene,
    Outcome,
    Revision,
    Target,
    Trial,
    TrialArmAgent,
    validate_nct_id,
)


def linked(queryset, link_model, outer: str, inner: str, values):
    """Rows linked through `link_model` to any of `values`: no join, no duplicates."""
    return queryset.filter(
        Exists(
            link_model.objects.filter(**{outer: OuterRef("pk"), f"{inner}__in": values})
        )
    )


class TargetFilter(SearchFilterSet):
    agent = IdentifierFilter(Agent, "slug", "Targets of any of these agents (slugs).")

    class Meta:
        model = Target
        fields = []

    def filter_related(self, queryset, name, value):
        return linked(queryset, AgentTarget, "target", "agent", value)


class AgentFilter(SearchFilterSet):
    modality = choices_filter(Agent.Modality.choices)
    status = choices_filter(Agent.Status.choices, field_name="development_status")
    target = IdentifierFilter(Target, "symbol", "Acting on any of these targets.")
    approval_agency = choices_filter(
        Approval.Agency.choices,
        method="filter_agency",
        label="Approved by any of these agencies.",
    )

    class Meta:
        model = Agent
        fields = []

    def filter_related(self, queryset, name, value):
        return linked(queryset, AgentTarget, "agent", "target", value)

    def filter_agency(self, queryset, name, value):
        return linked(queryset, Approval, "agent", "agency", value)


class MechanismFilter(SearchFilterSet):
    category = choices_filter(Mechanism.Category.choices)
    ancestor = IdentifierFilter(
        Mechanism, "slug", "These mechanisms and everything under them."
    )
    parent = IdentifierFilter(Mechanism, "slug", "Direct children of these mechanisms.")
    root = BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Only top-level mechanisms."
    )
    gene = IdentifierFilter(Target, "symbol", "Involving any of these genes.")

    class Meta:
        model = Mechanism
        fields = []

    def filter_related(self, queryset, name, value):
        if name == "ancestor":
            return queryset.filter(pk__in=Mechanism.objects.subtree_ids(value))
        if name == "parent":
            return queryset.filter(parent__in=value)
        return linked(queryset, MechanismGene, "mechanism", "target", value)


class TrialFilter(SearchFilterSet):
    phase = choices_filter(Trial.Phase.choices)
    status = choices_filter(Trial.Status.choices)
    setting = choices_filter(Trial.Setting.choices)
    population = choices_filter(Trial.Population.choices)
    start_date_type = choices_filter(Trial.DateType.choices)
    completion_date_type = choices_filter(Trial.DateType.choices)
    agent = IdentifierFilter(Agent, "slug", "Giving any of these agents in an arm.")
    nct_id = MultipleValueFilter(
        validator=validate_nct_id, label="Any of these NCT ids."
    )

    class Meta:
        model = Trial
        fields = []

    def filter_related(self, queryset, name, value):
        return linked(queryset, TrialArmAgent, "arm__trial", "agent", value)


class OutcomeFilter(SearchFilterSet):
    trial = IdentifierFilter(Trial, "nct_id", "Of any of these trials (NCT ids).")
    agent = IdentifierFilter(
        Agent, "slug", "Of trials giving any of these agents in an arm (slugs)."
    )
    endpoint = choices_filter(Outcome.Endpoint.choices)
    analysis = choices_filter(Outcome.Analysis.choices)
    measure = choices_filter(Outcome.Measure.choices)
    citation = IdentifierFilter(Citation, "citekey", "Read in any of these (citekeys).")
    population = text_filter(
        lookup_expr="iexact", max_length=200, label='This population, e.g. "ITT".'
    )

    class Meta:
        model = Outcome
        fields = []

    def filter_related(self, queryset, name, value):
        if name == "agent":
            return queryset.filter(
                Exists(
                    TrialArmAgent.objects.filter(
                        arm__trial=OuterRef("trial"), agent__in=value
                    )
                )
            )
        return queryset.filter(**{f"{name}__in": value})


class EvidenceFilter(SearchFilterSet):
    agent = IdentifierFilter(Agent, "slug", "About any of these agents (slugs).")
    mechanism = IdentifierFilter(
        Mechanism, "slug", "Under any of these mechanisms, or below them."
    )
    mechanism_exact = IdentifierFilter(
        Mechanism,
        "slug",
        "Filed under any of these mechanisms themselves, not below them (a "
        "cell of the resistance map).",
    )
    category = choices_filter(
        Mechanism.Category.choices, field_name="mechanism__category"
    )
    effect = choices_filter(Evidence.Effect.choices)
    direction = choices_filter(Evidence.Direction.choices)
    level = choices_filter(Evidence.Level.choices)
    origin = choices_filter(Evidence.Origin.choices)
    model_system = choices_filter(Evidence.ModelSystem.choices)
    citation = IdentifierFilter(Citation, "citekey", "Citing any of these (citekeys).")
    trial = IdentifierFilter(Trial, "nct_id", "Resting on any of these trials.")
    status = choices_filter(
        Evidence.Status.choices,
        label="Review status; anonymous readers see accepted evidence only.",
    )

    class Meta:
        model = Evidence
        fields = []

    def filter_related(self, queryset, name, value):
        if name == "agent":
            return linked(queryset, EvidenceAgent, "evidence", "agent", value)
        if name == "citation":
            return linked(queryset, EvidenceCitation, "evidence", "citation", value)
        if name == "trial":
            return linked(queryset, EvidenceTrial, "evidence", "trial", value)
        if name == "mechanism_exact":
            return queryset.filter(mechanism__in=value)
        return queryset.filter(mechanism__in=Mechanism.objects.subtree_ids(value))


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC before it reaches the database
    (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows)."""

    def clean(self, value):
        if value == "":  # given, but empty: not a moment (absent is None)
            raise forms.ValidationError(
                "Give a moment (ISO 8601), or leave the parameter out."
            )
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This moment is out of range.") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class ChangeFilter(FilterSet):
    """The change feed by kind of resource and by time."""

    since = UTCDateTimeFilter(
        field_name="changed_at",
        lookup_expr="gt",
        help_text="Only changes after this moment (ISO 8601: 2026-01-31T12:00:00Z).",
    )
    until = UTCDateTimeFilter(
        field_name="changed_at",
        lookup_expr="lte",
        help_text="Only changes up to this moment (ISO 8601).",
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=[(kind, kind) for kind in registry.kinds()],
        help_text="Only changes to this kind of resource (repeat for several).",
    )
    action = django_filters.MultipleChoiceFilter(choices=ChangeEntry.Action.choices)

    class Meta:
        model = ChangeEntry
        fields = []


# A claim's number, or its UID with or without hyphens.
EVIDENCE_KEY = re.compile(
    r"^([0-9]{1,18}|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$"
)


class RevisionFilter(FilterSet):
    """Revisions by the claim they change and by where their review stands."""

    evidence = extend_schema_field({"type": "string", "pattern": EVIDENCE_KEY.pattern})(
        django_filters.CharFilter(
            method="filter_evidence",
            strip=False,
            help_text="Revisions of this claim (its number or its UID).",
        )
    )
    evidence.empty_is_error = True  # a key, not free text
    status = choices_filter(Revision.Status.choices)

    class Meta:
        model = Revision
        fields = []

    def filter_evidence(self, queryset, name, value):
        if not EVIDENCE_KEY.fullmatch(value):
            raise ValidationError({"evidence": ["An evidence number or UID."]})
        if value.isdigit():
            return queryset.filter(evidence_id=int(value))
        return queryset.filter(evidence__uid=uuid.UUID(value))
