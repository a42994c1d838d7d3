"""Review that cannot be bypassed: revisions of accepted claims, independent reviewers.

Accepted content never changes in place. A change to what readers see of an
accepted claim (its statement, level, effect, direction, origin, model
system, mechanism, agents, trials, citations with their quotes and locators)
is proposed as a `Revision`, reviewed like a claim and applied atomically
when an editor who had no hand in it accepts it. The models refuse any other
write to an accepted claim's content (`guard_*` below), so the rule holds in
the admin, the API, importers and commands alike; they turn edits into
revisions before they reach the models.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from her2db import operations
from her2db.models import (
    SHORT_TEXT,
    TEXT,
    BoundedTextField,
    TimeStampedModel,
    user_field,
)

# What readers see of a claim, besides its relations.
CONTENT_FIELDS = ("statement", "level", "effect", "direction", "origin", "model_system")
# What a claim's citation rows carry that readers see.
CITATION_FIELDS = ("quote", "location")

_unlocked: ContextVar[frozenset] = ContextVar("her2db_unlocked", default=frozenset())


class ReviewRequired(PermissionDenied):
    """A write that would change accepted content in place."""


class NotIndependent(PermissionDenied):
    """A reviewer who had a hand in what they would accept."""


@contextmanager
def unlocked(evidence) -> Iterator[None]:
    """Let this claim's content change: an accepted revision being applied."""
    token = _unlocked.set(_unlocked.get() | {evidence.pk})
    try:
        yield
    finally:
        _unlocked.reset(token)


def is_locked(evidence_id) -> bool:
    """Is this claim accepted, and not being changed by an accepted revision?

    The operation that created a claim may still complete it (a restore, a
    data load, a form with its inlines).
    """
    from .evidence import Evidence

    if evidence_id is None or evidence_id in _unlocked.get():
        return False
    if (Evidence._meta.label_lower, evidence_id) in operations.current().created:
        return False
    status = (
        Evidence.objects.filter(pk=evidence_id).values_list("status", flat=True).first()
    )
    return status == Evidence.Status.ACCEPTED


REFUSAL = (
    "This claim is accepted: its content changes only through a revision that "
    "an editor accepts."
)


def guard_claim(evidence) -> None:
    """Refuse a save that changes an accepted claim's content in place."""
    if evidence._state.adding or not is_locked(evidence.pk):
        return
    stored = (
        type(evidence)
        .objects.filter(pk=evidence.pk)
        .values(*CONTENT_FIELDS, "mechanism_id")
        .get()
    )
    if any(getattr(evidence, name) != value for name, value in stored.items()):
        raise ReviewRequired(REFUSAL)


def guard_row(row, deleting: bool = False) -> None:
    """Refuse adding, changing or removing a row of an accepted claim's content.

    A citation row's `retraction_reviewed` is a reviewer's mark, not content.
    """
    if not is_locked(row.evidence_id):
        return
    if not deleting and not row._state.adding:
        fields = [f.attname for f in row._meta.concrete_fields if not f.primary_key]
        stored = type(row).objects.filter(pk=row.pk).values(*fields).first() or {}
        changed = {n for n in fields if getattr(row, n) != stored.get(n)}
        if changed <= {"retraction_reviewed"}:
            return
    raise ReviewRequired(REFUSAL)


def guard_links(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """m2m_changed: agents or trials set, added or removed on an accepted claim."""
    if not action.startswith("pre_"):
        return
    if not reverse:
        claims = [instance.pk]
    elif pk_set is not None:
        claims = list(pk_set)
    else:  # agent.evidence.clear(): every claim of that agent
        claims = list(instance.evidence.values_list("pk", flat=True))
    if any(is_locked(pk) for pk in claims):
        raise ReviewRequired(REFUSAL)


def content_of(evidence) -> dict:
    """What readers see of a claim, as a revision proposes it."""
    content = {name: getattr(evidence, name) for name in CONTENT_FIELDS}
    content["mechanism"] = evidence.mechanism.slug
    content["agents"] = sorted(a.slug for a in evidence.agents.all())
    content["trials"] = sorted(t.nct_id for t in evidence.trials.all())
    content["citations"] = sorted(
        (
            {"citation": link.citation.citekey}
            | {name: getattr(link, name) for name in CITATION_FIELDS}
            for link in evidence.evidence_citations.select_related("citation")
        ),
        key=lambda c: c["citation"],
    )
    return content


def differences(before: dict, after: dict) -> list[str]:
    """Names of the content fields two snapshots disagree on."""
    return sorted(name for name in after if before.get(name) != after[name])


class Revision(TimeStampedModel):
    """A proposed change to an accepted claim, reviewed like a claim."""

    class Status(models.TextChoices):
        SUBMITTED = "SUBMITTED", "Waiting for review"
        ACCEPTED = "ACCEPTED", "Accepted and applied"
        REJECTED = "REJECTED", "Rejected"

    evidence = models.ForeignKey(
        "therapies.Evidence", on_delete=models.CASCADE, related_name="revisions"
    )
    content = models.JSONField(help_text="The claim's content as proposed.")
    base = models.JSONField(help_text="The claim's content when it was proposed.")
    changed = models.JSONField(default=list, help_text="What the revision changes.")
    note = BoundedTextField(
        blank=True, max_length=TEXT, help_text="Why the change is proposed."
    )
    status = models.CharField(
        max_length=10, choices=Status, default=Status.SUBMITTED, editable=False
    )
    reason = BoundedTextField(
        max_length=SHORT_TEXT,
        blank=True,
        editable=False,
        help_text="Why it was rejected.",
    )
    created_by = user_field(blank=False)
    reviewed_by = user_field()
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["evidence", "id"]
        indexes = [
            # The review queue: revisions waiting, by claim.
            models.Index(fields=["status", "evidence"], name="therapies_rev_queue"),
        ]

    def __str__(self):
        return f"Revision {self.pk} of claim {self.evidence_id}"

    @classmethod
    def propose(cls, evidence, content: dict, user, note: str = "") -> "Revision":
        """Record a proposed change; raises ValidationError if it changes nothing."""
        base = content_of(evidence)
        content = base | {k: v for k, v in content.items() if k in base}
        changed = differences(base, content)
        if not changed:
            raise ValidationError("The proposed revision changes nothing.")
        return cls.objects.create(
            evidence=evidence,
            content=content,
            base=base,
            changed=changed,
            note=note,
            created_by=user,
        )

    def accept(self, user) -> None:
        """Apply the revision to its claim, atomically, as its author's change."""
        from .evidence import Evidence

        self._check_open("accept")
        if not user.has_perm("therapies.review_evidence"):
            raise PermissionDenied("You may not accept revisions.")
        if self.created_by_id == user.pk:
            raise NotIndependent("Nobody accepts their own revision.")
        with transaction.atomic():
            evidence = Evidence.objects.select_for_update().get(pk=self.evidence_id)
            if content_of(evidence) != self.base:
                raise ValidationError(
                    "The claim changed after this revision was proposed; "
                    "propose it again from the current claim."
                )
            with unlocked(evidence):
                evidence.apply_content(
                    self.content,
                    self.created_by,
                    f"revision {self.pk} accepted by {user}",
                )
            self.status = self.Status.ACCEPTED
            self.reviewed_by, self.reviewed_at = user, timezone.now()
            self.save()

    def reject(self, user, reason: str) -> None:
        self._check_open("reject")
        if not user.has_perm("therapies.review_evidence"):
            raise PermissionDenied("You may not reject revisions.")
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": "A reason is required to reject."})
        self.status, self.reason = self.Status.REJECTED, reason
        self.reviewed_by, self.reviewed_at = user, timezone.now()
        self.save()

    def _check_open(self, action: str) -> None:
        if self.status != self.Status.SUBMITTED:
            state = self.get_status_display().lower()
            raise ValidationError(f"Cannot {action} a revision that is {state}.")
