"""Evidence: curated claims tying agents to mechanisms, and their review."""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from her2db.models import (
    SHORT_TEXT,
    TEXT,
    BoundedTextField,
    NaturalKeyManager,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
    unique_pair,
    user_field,
)
from her2db.registry import registry
from references.models import Citation

from .agents import Agent
from .review import (
    CITATION_FIELDS,
    CONTENT_FIELDS,
    NotIndependent,
    guard_claim,
    guard_row,
)
from .trials import Trial


class ClaimRow(NaturalKeyModel):
    """A row of a claim's content: once the claim is accepted, changed only by
    an accepted revision (see review.py)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        guard_row(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        guard_row(self, deleting=True)
        return super().delete(*args, **kwargs)


class EvidenceAgent(ClaimRow):
    """An agent that a claim is about (several make a combination)."""

    evidence = models.ForeignKey(
        "therapies.Evidence", on_delete=models.CASCADE, related_name="evidence_agents"
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="evidence_agents"
    )

    natural_key_fields = ("evidence__uid", "agent__slug")

    class Meta:
        ordering = ["evidence", "agent"]
        constraints = [
            unique_pair("evidence", "agent", "This agent is already in the claim."),
        ]

    def __str__(self):
        return f"{self.evidence_id} · {self.agent}"


class EvidenceTrial(ClaimRow):
    """A trial whose data a claim rests on."""

    evidence = models.ForeignKey(
        "therapies.Evidence", on_delete=models.CASCADE, related_name="evidence_trials"
    )
    trial = models.ForeignKey(
        "therapies.Trial", on_delete=models.PROTECT, related_name="evidence_trials"
    )

    natural_key_fields = ("evidence__uid", "trial__nct_id")

    class Meta:
        ordering = ["evidence", "trial"]
        constraints = [
            unique_pair("evidence", "trial", "This trial is already linked."),
        ]

    def __str__(self):
        return f"{self.evidence_id} · {self.trial}"


def sees_unpublished(user) -> bool:
    """May this user see evidence that is not (or no longer) accepted?"""
    return user.is_authenticated and user.has_perm(
        "therapies.view_unpublished_evidence"
    )


class EvidenceQuerySet(models.QuerySet):
    def accepted(self):
        """Claims anyone may read (the public rule of therapies/resources.py)."""
        return registry.public_rows(self.model, self)

    def citing_retracted(self):
        """Claims citing a retracted paper that no curator has reviewed since."""
        return self.filter(
            evidence_citations__citation__retracted=True,
            evidence_citations__retraction_reviewed=False,
        ).distinct()

    def visible_to(self, user):
        """Everything for those who may see unpublished claims, else accepted only."""
        return self if sees_unpublished(user) else self.accepted()


class EvidenceManager(NaturalKeyManager.from_queryset(EvidenceQuerySet)):
    pass


class Evidence(TimeStampedModel, NaturalKeyModel):
    """A curated claim tying agents to a resistance mechanism, with its sources."""

    class Effect(models.TextChoices):
        CONFERS_RESISTANCE = "CONFERS_RESISTANCE", "Confers resistance"
        REDUCES_SENSITIVITY = "REDUCES_SENSITIVITY", "Reduces sensitivity"
        OVERCOMES_RESISTANCE = (
            "OVERCOMES_RESISTANCE",
            "Overcomes or restores sensitivity",
        )
        NO_EFFECT = "NO_EFFECT", "No effect on sensitivity"

    class Direction(models.TextChoices):
        SUPPORTS = "SUPPORTS", "Supports"
        DOES_NOT_SUPPORT = "DOES_NOT_SUPPORT", "Does not support"

    # CIViC's evidence levels, strongest first; LEVEL_HELP says what each needs.
    class Level(models.TextChoices):
        A = "A", "A: validated"
        B = "B", "B: clinical"
        C = "C", "C: case study"
        D = "D", "D: preclinical"
        E = "E", "E: inferential"

    class Origin(models.TextChoices):
        INTRINSIC = "INTRINSIC", "Intrinsic (de novo)"
        ACQUIRED = "ACQUIRED", "Acquired"
        UNKNOWN = "UNKNOWN", "Not stated"

    class ModelSystem(models.TextChoices):
        PATIENTS = "PATIENTS", "Patients (observational)"
        CLINICAL_TRIAL = "CLINICAL_TRIAL", "Clinical trial"
        PDX = "PDX", "Patient-derived xenograft"
        CELL_LINE = "CELL_LINE", "Cell line"
        ANIMAL_MODEL = "ANIMAL_MODEL", "Animal model"
        OTHER = "OTHER", "Other"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        SUBMITTED = "SUBMITTED", "Submitted for review"
        ACCEPTED = "ACCEPTED", "Accepted"
        REJECTED = "REJECTED", "Rejected"
        RETIRED = "RETIRED", "Retired"

    LEVEL_HELP = (
        "How strong the evidence is (CIViC's levels). A, validated: proven or "
        "consensus, e.g. a phase 3 trial or a guideline. B, clinical: data from "
        "patients in a trial or a clinical cohort. C, case study: reports of "
        "single patients or small case series. D, preclinical: cell lines, "
        "animal models or patient-derived xenografts. E, inferential: indirect, "
        "reasoned from related findings without direct data."
    )

    uid = models.UUIDField(
        "UID",
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Stable identifier across databases and releases.",
    )
    agents = models.ManyToManyField(
        Agent,
        through=EvidenceAgent,
        related_name="evidence",
        help_text="Several agents make one combination claim.",
    )
    mechanism = models.ForeignKey(
        "therapies.Mechanism", on_delete=models.PROTECT, related_name="evidence"
    )
    effect = models.CharField(
        max_length=24,
        choices=Effect,
        help_text="What the mechanism does to the agents' effect: confers "
        "resistance (the agents stop working), reduces sensitivity (they work "
        "less), overcomes or restores sensitivity (the agents, or adding them, "
        "work despite the mechanism), or has no effect.",
    )
    direction = models.CharField(
        max_length=16,
        choices=Direction,
        default=Direction.SUPPORTS,
        help_text="Whether the cited work supports the effect stated, or was "
        "looking for it and does not support it (a negative finding).",
    )
    level = models.CharField(max_length=1, choices=Level, help_text=LEVEL_HELP)
    origin = models.CharField(max_length=10, choices=Origin, default=Origin.UNKNOWN)
    model_system = models.CharField(
        max_length=16,
        choices=ModelSystem,
        help_text="Where the finding was made: patients observed outside a "
        "trial, a clinical trial, patient-derived xenografts, cell lines, "
        "other animal models, or another system.",
    )
    statement = BoundedTextField(
        max_length=TEXT, help_text="The claim in the curator's own words."
    )
    citations = models.ManyToManyField(
        Citation, through="therapies.EvidenceCitation", related_name="evidence"
    )
    trials = models.ManyToManyField(
        Trial, through=EvidenceTrial, related_name="evidence", blank=True
    )
    # Review workflow: changed only through transition(), never by a form.
    status = models.CharField(
        max_length=10, choices=Status, default=Status.DRAFT, editable=False
    )
    status_reason = BoundedTextField(
        max_length=SHORT_TEXT,
        blank=True,
        editable=False,
        help_text="Why it was rejected, sent back or retired.",
    )
    created_by = user_field()
    submitted_by = user_field()
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = user_field()
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = curated_history(m2m_fields=[agents, trials])

    natural_key_fields = ("uid",)
    objects = EvidenceManager()

    class Meta:
        ordering = ["level", "id"]
        verbose_name_plural = "evidence"
        permissions = [
            ("view_unpublished_evidence", "Can see evidence that is not yet accepted"),
            ("review_evidence", "Can accept or reject submitted evidence"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(statement=""),
                name="%(app_label)s_%(class)s_statement_required",
                violation_error_message="Evidence needs a statement.",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["A", "B", "C", "D", "E"]),
                name="%(app_label)s_%(class)s_level_a_to_e",
                violation_error_message="The level is one of A to E.",
            ),
        ]

    def __str__(self):
        agents = " + ".join(a.name for a in self.agents.all()) or "(no agent)"
        return f"{agents} · {self.mechanism} · {self.get_effect_display().lower()}"

    # action: (states it starts from, state it leads to, permission, reason needed)
    TRANSITIONS = {
        "submit": ({Status.DRAFT}, Status.SUBMITTED, "change_evidence", False),
        "accept": ({Status.SUBMITTED}, Status.ACCEPTED, "review_evidence", False),
        "reject": ({Status.SUBMITTED}, Status.REJECTED, "review_evidence", True),
        "send_back": ({Status.SUBMITTED}, Status.DRAFT, "review_evidence", True),
        "retire": ({Status.ACCEPTED}, Status.RETIRED, "review_evidence", True),
        "revise": ({Status.REJECTED}, Status.DRAFT, "change_evidence", False),
    }

    def allowed_transitions(self, user) -> list[str]:
        return [
            action
            for action, (sources, _, perm, _) in self.TRANSITIONS.items()
            if self.status in sources
            and user.has_perm(f"therapies.{perm}")
            and not (action == "accept" and self.independence_problem(user))
        ]

    def independence_problem(self, user) -> str:
        """Why this user may not accept the claim ("" if they may).

        Every public claim is reviewed by someone other than its creator, its
        submitter, and anyone who changed it after it was submitted;
        superusers included.
        """
        if self.created_by_id == user.pk:
            return "You created this claim: another editor must accept it."
        if self.submitted_by_id == user.pk:
            return "You submitted this claim: another editor must accept it."
        since = {"history_date__gt": self.submitted_at, "history_user_id": user.pk}
        if self.submitted_at and (
            self.history.filter(id=self.pk, **since).exists()
            or EvidenceCitation.history.filter(evidence_id=self.pk, **since).exists()
        ):
            return (
                "You changed this claim after it was submitted: another editor "
                "must accept it."
            )
        return ""

    def save(self, *args, **kwargs):
        guard_claim(self)
        super().save(*args, **kwargs)

    def apply_content(self, content: dict, user, reason: str) -> None:
        """Write a revision's content: fields, mechanism, agents, trials, citations."""
        from .mechanisms import Mechanism

        for name in CONTENT_FIELDS:
            setattr(self, name, content[name])
        self.mechanism = Mechanism.objects.get(slug=content["mechanism"])
        self._history_user, self._change_reason = user, reason
        self.save()
        self.agents.set(Agent.objects.filter(slug__in=content["agents"]))
        self.trials.set(Trial.objects.filter(nct_id__in=content["trials"]))
        wanted = {c["citation"]: c for c in content["citations"]}
        for link in self.evidence_citations.select_related("citation"):
            proposed = wanted.pop(link.citation.citekey, None)
            link._history_user, link._change_reason = user, reason
            if proposed is None:
                link.delete()
            elif any(getattr(link, n) != proposed[n] for n in CITATION_FIELDS):
                for name in CITATION_FIELDS:
                    setattr(link, name, proposed[name])
                link.save()
        for citekey, proposed in wanted.items():
            link = EvidenceCitation(
                evidence=self,
                citation=Citation.objects.get(citekey=citekey),
                **{name: proposed[name] for name in CITATION_FIELDS},
            )
            link._history_user, link._change_reason = user, reason
            link.save()

    def transition(self, action: str, user, reason: str = "") -> None:
        """Move the claim through review, recording who, when and why.

        Raises PermissionDenied when the user may not, ValidationError when the
        claim's state or a missing reason forbids it.
        """
        if action not in self.TRANSITIONS:
            raise ValidationError(f"Unknown action {action!r}.")
        sources, target, perm, needs_reason = self.TRANSITIONS[action]
        if not user.has_perm(f"therapies.{perm}"):
            raise PermissionDenied(f"You may not {action.replace('_', ' ')} evidence.")
        if self.status not in sources:
            raise ValidationError(
                f"Cannot {action.replace('_', ' ')} evidence that is "
                f"{self.get_status_display().lower()}."
            )
        if action == "accept":
            problem = self.independence_problem(user)
            if problem:
                raise NotIndependent(problem)
        reason = (reason or "").strip()
        if needs_reason and not reason:
            raise ValidationError({"reason": f"A reason is required to {action}."})
        now = timezone.now()
        if action == "submit":
            self.submitted_by, self.submitted_at = user, now
        elif perm == "review_evidence":
            self.reviewed_by, self.reviewed_at = user, now
        self.status = target
        self.status_reason = reason
        self._change_reason = f"{action}: {reason}" if reason else action
        self._history_user = user
        self.save()


class EvidenceCitation(ClaimRow):
    """A citation supporting a claim, with the quote and where it stands."""

    evidence = models.ForeignKey(
        "therapies.Evidence",
        on_delete=models.CASCADE,
        related_name="evidence_citations",
    )
    citation = models.ForeignKey(
        Citation, on_delete=models.PROTECT, related_name="evidence_citations"
    )
    quote = BoundedTextField(
        blank=True, max_length=TEXT, help_text="The supporting words, verbatim."
    )
    location = models.CharField(
        max_length=120, blank=True, help_text='Where the quote stands, e.g. "Fig. 2".'
    )
    retraction_reviewed = models.BooleanField(
        default=False,
        help_text="A curator has reviewed this claim since the citation was "
        "retracted; clears the retraction flag.",
    )
    history = curated_history()

    natural_key_fields = ("evidence__uid", "citation__citekey")

    class Meta:
        ordering = ["evidence", "citation"]
        constraints = [
            unique_pair("evidence", "citation", "This citation is already linked."),
        ]

    def __str__(self):
        return f"{self.citation}" + (f" ({self.location})" if self.location else "")
