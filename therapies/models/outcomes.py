"""Trial results as data: what a trial reported, per endpoint and per arm."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from her2db.models import (
    NaturalKeyManager,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
)
from references.models import Citation

from .trials import Trial, TrialArm

ESTIMATE_OUTSIDE_CI = "The confidence interval does not contain its estimate."
CI_REVERSED = "The lower bound of the confidence interval exceeds the upper bound."
ARM_OF_ANOTHER_TRIAL = "This arm belongs to another trial."
EVENT_NEEDED = "A safety endpoint names its event (e.g. interstitial lung disease)."
EVENT_ONLY_FOR_SAFETY = "Only a safety endpoint names an event."
MEASURE_NEEDED = "Say which ratio the estimate is (hazard ratio or odds ratio)."
TIMEPOINT_NEEDED = "A rate says at how many years it was estimated."
EVENTS_EXCEED_N = "The count exceeds the number of patients."
PERCENT_RANGE = "A rate or proportion is a percentage between 0 and 100."

P_VALUE = [MinValueValidator(0), MaxValueValidator(1)]


def interval_rule(estimate: str, lower: str, upper: str, name: str):
    """The database's form of "lower ≤ estimate ≤ upper" (each may be empty)."""
    return models.CheckConstraint(
        condition=(
            Q(**{f"{lower}__isnull": True})
            | Q(**{f"{upper}__isnull": True})
            | Q(**{f"{lower}__lte": F(upper)})
        )
        & (
            Q(**{f"{estimate}__isnull": True})
            | (
                (Q(**{f"{lower}__isnull": True}) | Q(**{f"{lower}__lte": F(estimate)}))
                & (
                    Q(**{f"{upper}__isnull": True})
                    | Q(**{f"{upper}__gte": F(estimate)})
                )
            )
        ),
        name=f"%(app_label)s_%(class)s_{name}",
        violation_error_message=ESTIMATE_OUTSIDE_CI,
    )


def interval_problems(estimate, lower, upper, estimate_field: str) -> dict:
    """The same rule in Python, by field, for forms, serializers and check_data."""
    if lower is not None and upper is not None and lower > upper:
        return {"ci_lower": [CI_REVERSED]}
    if estimate is None:
        return {}
    if (lower is not None and lower > estimate) or (
        upper is not None and upper < estimate
    ):
        return {estimate_field: [ESTIMATE_OUTSIDE_CI]}
    return {}


class OutcomeQuerySet(models.QuerySet):
    def for_agent(self, agent):
        """Outcomes of trials with an arm giving the agent."""
        return self.filter(
            models.Exists(
                TrialArm.agents.through.objects.filter(
                    arm__trial=models.OuterRef("trial"), agent=agent
                )
            )
        )


class OutcomeManager(NaturalKeyManager.from_queryset(OutcomeQuerySet)):
    pass


class Outcome(TimeStampedModel, NaturalKeyModel):
    """A result a trial reported: one endpoint, in one population, at one analysis,
    with the comparison between its arms."""

    class Endpoint(models.TextChoices):
        PCR = "PCR", "Pathological complete response (pCR)"
        IDFS = "IDFS", "Invasive disease-free survival (iDFS)"
        DFS = "DFS", "Disease-free survival (DFS)"
        EFS = "EFS", "Event-free survival (EFS)"
        PFS = "PFS", "Progression-free survival (PFS)"
        OS = "OS", "Overall survival (OS)"
        ORR = "ORR", "Objective response rate (ORR)"
        CBR = "CBR", "Clinical benefit rate (CBR)"
        DOR = "DOR", "Duration of response (DoR)"
        SAFETY = "SAFETY", "Safety event"

    class Analysis(models.TextChoices):
        PRIMARY = "PRIMARY", "Primary"
        INTERIM = "INTERIM", "Interim"
        FINAL = "FINAL", "Final"

    class Measure(models.TextChoices):
        HAZARD_RATIO = "HR", "Hazard ratio"
        ODDS_RATIO = "OR", "Odds ratio"

    class PQualifier(models.TextChoices):
        EQUAL = "=", "="
        LESS = "<", "<"

    uid = models.UUIDField(
        "UID",
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Names the outcome in URLs, fixtures and releases.",
    )
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="outcomes")
    endpoint = models.CharField(max_length=8, choices=Endpoint)
    event = models.CharField(
        max_length=200,
        blank=True,
        help_text="A safety endpoint's event, e.g. interstitial lung disease.",
    )
    population = models.CharField(
        max_length=200,
        default="ITT",
        help_text='"ITT" (intention to treat), or the subgroup the result is for.',
    )
    analysis = models.CharField(max_length=8, choices=Analysis)
    data_cutoff = models.DateField("data cut-off", null=True, blank=True)
    # The comparison between the arms.
    measure = models.CharField(
        max_length=2, choices=Measure, blank=True, help_text="HR or OR."
    )
    estimate = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    ci_lower = models.DecimalField(
        "95% CI lower", max_digits=8, decimal_places=4, null=True, blank=True
    )
    ci_upper = models.DecimalField(
        "95% CI upper", max_digits=8, decimal_places=4, null=True, blank=True
    )
    p_value = models.DecimalField(
        "p-value",
        max_digits=12,
        decimal_places=10,
        null=True,
        blank=True,
        validators=P_VALUE,
    )
    p_qualifier = models.CharField(
        "p-value is",
        max_length=1,
        choices=PQualifier,
        default=PQualifier.EQUAL,
        help_text='"<" for a p-value reported as "p < 0.001".',
    )
    crossed_boundary = models.BooleanField(
        "crossed its boundary",
        null=True,
        blank=True,
        help_text="Did the comparison cross its prespecified efficacy boundary? "
        "Empty: not reported.",
    )
    # Where it was read.
    citation = models.ForeignKey(
        Citation,
        on_delete=models.PROTECT,
        related_name="outcomes",
        null=True,
        blank=True,
        help_text="Empty when read from the registry's posted results.",
    )
    locator = models.CharField(
        max_length=200, blank=True, help_text='e.g. "Table 2", "Fig. 3A", "p. 1785".'
    )
    notes = models.TextField(blank=True)
    history = curated_history()

    natural_key_fields = ("uid",)
    objects = OutcomeManager()

    class Meta:
        ordering = ["trial", "endpoint", "population", "data_cutoff", "id"]
        constraints = [
            interval_rule("estimate", "ci_lower", "ci_upper", "ci_contains_estimate"),
            models.CheckConstraint(
                condition=Q(p_value__isnull=True) | Q(p_value__gte=0, p_value__lte=1),
                name="%(app_label)s_%(class)s_p_value_range",
                violation_error_message="A p-value lies between 0 and 1.",
            ),
            models.CheckConstraint(
                condition=Q(endpoint="SAFETY") | Q(event=""),
                name="%(app_label)s_%(class)s_event_only_for_safety",
                violation_error_message=EVENT_ONLY_FOR_SAFETY,
            ),
        ]

    def __str__(self):
        what = self.event if self.endpoint == self.Endpoint.SAFETY else self.endpoint
        return f"{self.trial} {what} ({self.population}, {self.analysis.lower()})"

    def clean(self):
        errors = interval_problems(
            self.estimate, self.ci_lower, self.ci_upper, "estimate"
        )
        if self.endpoint == self.Endpoint.SAFETY and not self.event.strip():
            errors.setdefault("event", []).append(EVENT_NEEDED)
        if self.estimate is not None and not self.measure:
            errors.setdefault("measure", []).append(MEASURE_NEEDED)
        if errors:
            raise ValidationError(errors)


class OutcomeArmResult(NaturalKeyModel):
    """One arm's value of an outcome, with its unit and its 95% CI."""

    class Unit(models.TextChoices):
        MEDIAN_MONTHS = "MEDIAN_MONTHS", "Median, months"
        RATE_PERCENT = "RATE_PERCENT", "Rate at N years, %"
        PROPORTION_PERCENT = "PROPORTION_PERCENT", "Proportion, %"
        COUNT = "COUNT", "Count of N"

    outcome = models.ForeignKey(
        Outcome, on_delete=models.CASCADE, related_name="arm_results"
    )
    # PROTECT: removing an arm must not silently drop the results reported for it.
    arm = models.ForeignKey(
        TrialArm, on_delete=models.PROTECT, related_name="outcome_results"
    )
    unit = models.CharField(max_length=20, choices=Unit)
    value = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Empty for a median not reached, or a bare count.",
    )
    ci_lower = models.DecimalField(
        "95% CI lower", max_digits=8, decimal_places=3, null=True, blank=True
    )
    ci_upper = models.DecimalField(
        "95% CI upper", max_digits=8, decimal_places=3, null=True, blank=True
    )
    not_reached = models.BooleanField(
        "median not reached", default=False, help_text="The median was not reached."
    )
    timepoint_years = models.DecimalField(
        "at years",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="For a rate: the year it was estimated at (3 for 3-year iDFS).",
    )
    events = models.PositiveIntegerField(
        null=True, blank=True, help_text="Patients with the event or response."
    )
    patients = models.PositiveIntegerField(
        "N", null=True, blank=True, help_text="Patients analysed in this arm."
    )
    history = curated_history()

    # What an arm's value says, in the order forms and the API show it.
    COLUMNS = (
        "arm",
        "unit",
        "value",
        "ci_lower",
        "ci_upper",
        "not_reached",
        "timepoint_years",
        "events",
        "patients",
    )

    natural_key_fields = ("outcome__uid", "arm__label")

    class Meta:
        ordering = ["outcome", "arm"]
        constraints = [
            models.UniqueConstraint(
                fields=["outcome", "arm"],
                name="%(app_label)s_%(class)s_unique_arm",
                violation_error_message="This arm already has a value here.",
            ),
            interval_rule("value", "ci_lower", "ci_upper", "ci_contains_value"),
            models.CheckConstraint(
                condition=Q(events__isnull=True)
                | Q(patients__isnull=True)
                | Q(events__lte=F("patients")),
                name="%(app_label)s_%(class)s_events_within_patients",
                violation_error_message=EVENTS_EXCEED_N,
            ),
        ]

    def __str__(self):
        return f"{self.outcome} · {self.arm.label}"

    def clean(self):
        errors = interval_problems(self.value, self.ci_lower, self.ci_upper, "value")
        if self.unit == self.Unit.RATE_PERCENT and self.timepoint_years is None:
            errors.setdefault("timepoint_years", []).append(TIMEPOINT_NEEDED)
        if self.unit in (self.Unit.RATE_PERCENT, self.Unit.PROPORTION_PERCENT):
            bounds = (self.value, self.ci_lower, self.ci_upper)
            if any(v is not None and not 0 <= v <= 100 for v in bounds):
                errors.setdefault("value", []).append(PERCENT_RANGE)
        if (
            self.events is not None
            and self.patients is not None
            and self.events > self.patients
        ):
            errors.setdefault("events", []).append(EVENTS_EXCEED_N)
        if self.outcome_id and self.arm_id and not self.arm_in_trial():
            errors.setdefault("arm", []).append(ARM_OF_ANOTHER_TRIAL)
        if errors:
            raise ValidationError(errors)

    def arm_in_trial(self) -> bool:
        return self.arm.trial_id == self.outcome.trial_id
