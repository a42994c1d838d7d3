"""Clinical trials, their arms and publications."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from her2db.models import (
    LONG_TEXT,
    SHORT_TEXT,
    TEXT,
    BoundedTextField,
    NaturalKeyManager,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
    unique_pair,
)
from references.models import Citation

from .agents import Agent
from .validators import validate_nct_id, validate_partial_date


class TrialPublication(NaturalKeyModel):
    """A citation reporting a trial."""

    trial = models.ForeignKey(
        "therapies.Trial", on_delete=models.CASCADE, related_name="trial_publications"
    )
    citation = models.ForeignKey(
        Citation, on_delete=models.PROTECT, related_name="trial_publications"
    )

    natural_key_fields = ("trial__nct_id", "citation__citekey")

    class Meta:
        ordering = ["trial", "citation"]
        constraints = [
            unique_pair("trial", "citation", "This publication is already listed."),
        ]

    def __str__(self):
        return f"{self.trial} · {self.citation}"


class TrialQuerySet(models.QuerySet):
    def for_agent(self, agent):
        return self.filter(arms__agents=agent).distinct()


class TrialManager(NaturalKeyManager.from_queryset(TrialQuerySet)):
    pass


class Trial(TimeStampedModel, NaturalKeyModel):
    """A clinical trial as registered on ClinicalTrials.gov."""

    class Phase(models.TextChoices):
        NA = "NA", "Not applicable"
        EARLY_PHASE1 = "EARLY_PHASE1", "Early phase 1"
        PHASE1 = "PHASE1", "Phase 1"
        PHASE1_PHASE2 = "PHASE1_PHASE2", "Phase 1/2"
        PHASE2 = "PHASE2", "Phase 2"
        PHASE2_PHASE3 = "PHASE2_PHASE3", "Phase 2/3"
        PHASE3 = "PHASE3", "Phase 3"
        PHASE4 = "PHASE4", "Phase 4"

    class Status(models.TextChoices):
        NOT_YET_RECRUITING = "NOT_YET_RECRUITING", "Not yet recruiting"
        RECRUITING = "RECRUITING", "Recruiting"
        ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION", "Enrolling by invitation"
        ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING", "Active, not recruiting"
        SUSPENDED = "SUSPENDED", "Suspended"
        TERMINATED = "TERMINATED", "Terminated"
        COMPLETED = "COMPLETED", "Completed"
        WITHDRAWN = "WITHDRAWN", "Withdrawn"
        UNKNOWN = "UNKNOWN", "Unknown status"

    class Setting(models.TextChoices):
        NEOADJUVANT = "NEOADJUVANT", "Neoadjuvant"
        ADJUVANT = "ADJUVANT", "Adjuvant"
        METASTATIC = "METASTATIC", "Metastatic or advanced"
        OTHER = "OTHER", "Other"

    class DateType(models.TextChoices):
        """Whether a registry date has happened, as ClinicalTrials.gov marks
        it (`startDateStruct.type`, `completionDateStruct.type`)."""

        ACTUAL = "ACTUAL", "Actual"
        ESTIMATED = "ESTIMATED", "Estimated (the sponsor's expected date)"

    class Population(models.TextChoices):
        """Whose disease the trial enrols. HER2db is about HER2-positive
        breast cancer; a trial outside it is here only where a claim or an
        approval needs it, and says so here (`conditions` gives the words)."""

        HER2_POSITIVE_BREAST = "HER2_POSITIVE_BREAST", "HER2-positive breast cancer"
        HER2_LOW_BREAST = "HER2_LOW_BREAST", "HER2-low or HER2-ultralow breast cancer"
        HER2_NEGATIVE_BREAST = "HER2_NEGATIVE_BREAST", "HER2-negative breast cancer"
        BREAST_MIXED_HER2 = (
            "BREAST_MIXED_HER2",
            "Breast cancer, HER2-positive and other HER2 statuses",
        )
        OTHER_CANCER = "OTHER_CANCER", "Another cancer"

    nct_id = models.CharField(
        "NCT id", max_length=11, unique=True, validators=[validate_nct_id]
    )
    acronym = models.CharField(max_length=60, blank=True)
    title = models.CharField(max_length=500, help_text="Brief title.")
    official_title = BoundedTextField(blank=True, max_length=SHORT_TEXT)
    phase = models.CharField(max_length=14, choices=Phase, blank=True)
    status = models.CharField(max_length=24, choices=Status, blank=True)
    setting = models.CharField(max_length=12, choices=Setting, blank=True)
    enrollment = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.CharField(
        max_length=10, blank=True, validators=[validate_partial_date]
    )
    start_date_type = models.CharField(
        max_length=9,
        choices=DateType,
        blank=True,
        help_text="Actual, or the sponsor's estimate; given with the date.",
    )
    completion_date = models.CharField(
        max_length=10, blank=True, validators=[validate_partial_date]
    )
    completion_date_type = models.CharField(
        max_length=9,
        choices=DateType,
        blank=True,
        help_text="Actual, or the sponsor's estimate; given with the date.",
    )
    sponsor = models.CharField(max_length=200, blank=True)
    population = models.CharField(
        max_length=20,
        choices=Population,
        blank=True,
        help_text="Whose disease the trial enrols; conditions gives the words.",
    )
    conditions = models.CharField(max_length=500, blank=True)
    primary_endpoint = BoundedTextField(blank=True, max_length=LONG_TEXT)
    result_summary = BoundedTextField(blank=True, max_length=LONG_TEXT)
    publications = models.ManyToManyField(
        Citation,
        through=TrialPublication,
        related_name="trials",
        blank=True,
    )
    history = curated_history(m2m_fields=[publications])

    natural_key_fields = ("nct_id",)
    objects = TrialManager()

    # Statuses of a trial that has ended: its completion date has happened.
    FINISHED = (Status.COMPLETED, Status.TERMINATED)
    # Statuses of a trial under way or ended: its start date has happened.
    STARTED = (
        Status.RECRUITING,
        Status.ENROLLING_BY_INVITATION,
        Status.ACTIVE_NOT_RECRUITING,
        Status.SUSPENDED,
        *FINISHED,
    )

    class Meta:
        ordering = ["nct_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nct_id__startswith="NCT"),
                name="%(app_label)s_%(class)s_nct_id_form",
                violation_error_message='An NCT id is "NCT" and 8 digits.',
            ),
        ]

    def __str__(self):
        return f"{self.nct_id} {self.acronym}".strip()

    def clean(self):
        errors = {}
        for field in ("start_date", "completion_date"):
            date, kind = getattr(self, field), getattr(self, f"{field}_type")
            if date and not kind:
                errors[f"{field}_type"] = (
                    "Say whether the date is actual or the sponsor's estimate "
                    "(ACTUAL or ESTIMATED), as the registry marks it."
                )
            elif kind and not date:
                errors[f"{field}_type"] = (
                    "Give the date this describes, or leave both empty."
                )
        if (
            self.status in self.FINISHED
            and self.completion_date_type == self.DateType.ESTIMATED
        ):
            errors["completion_date_type"] = (
                f"A trial {self.get_status_display().lower()} has an actual "
                "completion date, not an estimate."
            )
        if self.start_date and self.completion_date:
            n = min(len(self.start_date), len(self.completion_date))
            if self.completion_date[:n] < self.start_date[:n]:
                errors["completion_date"] = (
                    "The completion date precedes the start date."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def registry_url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"


class TrialArmAgent(NaturalKeyModel):
    """An agent given in a trial arm."""

    arm = models.ForeignKey(
        "therapies.TrialArm", on_delete=models.CASCADE, related_name="arm_agents"
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="arm_agents"
    )

    natural_key_fields = ("arm__trial__nct_id", "arm__label", "agent__slug")

    class Meta:
        ordering = ["arm", "agent"]
        constraints = [
            unique_pair("arm", "agent", "This agent is already in this arm."),
        ]

    def __str__(self):
        return f"{self.arm} · {self.agent}"


class TrialArm(NaturalKeyModel):
    """One arm of a trial and the agents it gives."""

    class Role(models.TextChoices):
        EXPERIMENTAL = "EXPERIMENTAL", "Experimental"
        ACTIVE_COMPARATOR = "ACTIVE_COMPARATOR", "Active comparator"
        PLACEBO_COMPARATOR = "PLACEBO_COMPARATOR", "Placebo comparator"
        SHAM_COMPARATOR = "SHAM_COMPARATOR", "Sham comparator"
        NO_INTERVENTION = "NO_INTERVENTION", "No intervention"
        OTHER = "OTHER", "Other"

    trial = models.ForeignKey(
        "therapies.Trial", on_delete=models.CASCADE, related_name="arms"
    )
    label = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role, default=Role.EXPERIMENTAL)
    description = BoundedTextField(blank=True, max_length=TEXT)
    physicians_choice = models.BooleanField(
        "physician's choice",
        default=False,
        help_text="The treatment is chosen per patient; the agents listed are the "
        "options (possibly none when the registry does not fix them).",
    )
    agents = models.ManyToManyField(
        Agent, through=TrialArmAgent, related_name="trial_arms", blank=True
    )
    history = curated_history(m2m_fields=[agents])

    natural_key_fields = ("trial__nct_id", "label")

    class Meta:
        ordering = ["trial", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "label"],
                name="%(app_label)s_%(class)s_unique_label",
                violation_error_message="This trial already has an arm so labelled.",
            ),
        ]

    def __str__(self):
        return f"{self.trial}: {self.label}"
