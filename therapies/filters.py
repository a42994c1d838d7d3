"""The filters of the therapies lists: agents, targets, mechanisms, trials,
evidence, changes."""

import uuid
from datetime import UTC

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from her2db.api.filters import (
    BooleanFilter,
    ManyValuesWidget,
    MultipleValueFilter,
    SearchFilterSet,
    choices_filter,
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


def by_identifier(model, field: str, label: str, single: bool = False):
    """Related objects named by their identifiers; an unknown one is a 400."""
    kind = (
        django_filters.ModelChoiceFilter
        if single
        else django_filters.ModelMultipleChoiceFilter
    )
    found = kind(
        queryset=model.objects.all(),
        to_field_name=field,
        method="filter_related",
        **({} if single else {"widget": ManyValuesWidget}),
    )
    # For the schema: identifiers are strings (not an enum of every row).
    return extend_schema_field({"type": "string", "description": label})(found)


def linked(queryset, link_model, outer: str, inner: str, values):
    """Rows linked through `link_model` to any of `values`: no join, no duplicates."""
    if not values:  # the parameter was not given
        return queryset
    return queryset.filter(
        Exists(
            link_model.objects.filter(**{outer: OuterRef("pk"), f"{inner}__in": values})
        )
    )


class TargetFilter(SearchFilterSet):
    agent = by_identifier(Agent, "slug", "Targets of any of these agents (slugs).")

    class Meta:
        model = Target
        fields = []

    def filter_related(self, queryset, name, value):
        return linked(queryset, AgentTarget, "target", "agent", value)


class AgentFilter(SearchFilterSet):
    modality = choices_filter(Agent.Modality.choices)
    status = choices_filter(Agent.Status.choices, field_name="development_status")
    target = by_identifier(Target, "symbol", "Acting on any of these targets.")
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
    ancestor = by_identifier(
        Mechanism, "slug", "This mechanism and everything under it.", single=True
    )
    parent = by_identifier(
        Mechanism, "slug", "Direct children of this mechanism.", single=True
    )
    root = BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Only top-level mechanisms."
    )
    gene = by_identifier(Target, "symbol", "Involving any of these genes.")

    class Meta:
        model = Mechanism
        fields = []

    def filter_related(self, queryset, name, value):
        if name == "ancestor":
            return queryset.filter(pk__in=Mechanism.objects.subtree_ids([value]))
        if name == "parent":
            return queryset.filter(parent=value)
        return linked(queryset, MechanismGene, "mechanism", "target", value)


class TrialFilter(SearchFilterSet):
    phase = choices_filter(Trial.Phase.choices)
    status = choices_filter(Trial.Status.choices)
    setting = choices_filter(Trial.Setting.choices)
    agent = by_identifier(Agent, "slug", "Giving any of these agents in an arm.")
    nct_id = MultipleValueFilter(
        validator=validate_nct_id, label="Any of these NCT ids."
    )

    class Meta:
        model = Trial
        fields = []

    def filter_related(self, queryset, name, value):
        return linked(queryset, TrialArmAgent, "arm__trial", "agent", value)


class OutcomeFilter(SearchFilterSet):
    trial = by_identifier(Trial, "nct_id", "Of any of these trials (NCT ids).")
    agent = by_identifier(
        Agent, "slug", "Of trials giving any of these agents in an arm (slugs)."
    )
    endpoint = choices_filter(Outcome.Endpoint.choices)
    analysis = choices_filter(Outcome.Analysis.choices)
    measure = choices_filter(Outcome.Measure.choices)
    citation = by_identifier(Citation, "citekey", "Read in any of these (citekeys).")
    population = django_filters.CharFilter(
        lookup_expr="iexact", label='This population, e.g. "ITT".'
    )

    class Meta:
        model = Outcome
        fields = []

    def filter_related(self, queryset, name, value):
        if not value:
            return queryset
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
    agent = by_identifier(Agent, "slug", "About any of these agents (slugs).")
    mechanism = by_identifier(
        Mechanism, "slug", "Under any of these mechanisms, or below them."
    )
    category = choices_filter(
        Mechanism.Category.choices, field_name="mechanism__category"
    )
    effect = choices_filter(Evidence.Effect.choices)
    direction = choices_filter(Evidence.Direction.choices)
    level = choices_filter(Evidence.Level.choices)
    origin = choices_filter(Evidence.Origin.choices)
    model_system = choices_filter(Evidence.ModelSystem.choices)
    citation = by_identifier(Citation, "citekey", "Citing any of these (citekeys).")
    trial = by_identifier(Trial, "nct_id", "Resting on any of these trials.")
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
        if not value:
            return queryset
        return queryset.filter(mechanism__in=Mechanism.objects.subtree_ids(value))


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC before it reaches the database
    (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows)."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This moment is out of range.") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class ChangeFilter(django_filters.FilterSet):
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


class RevisionFilter(django_filters.FilterSet):
    """Revisions by the claim they change and by where their review stands."""

    evidence = django_filters.CharFilter(
        method="filter_evidence",
        help_text="Revisions of this claim (its number or its UID).",
    )
    status = choices_filter(Revision.Status.choices)

    class Meta:
        model = Revision
        fields = []

    def filter_evidence(self, queryset, name, value):
        value = value.strip()
        if value.isdigit() and len(value) <= 18:
            return queryset.filter(evidence_id=int(value))
        try:
            return queryset.filter(evidence__uid=uuid.UUID(value))
        except ValueError:
            raise ValidationError(
                {"evidence": ["An evidence number or UID."]}
            ) from None
