"""A curator's work list: what waits for them, counted in one query a table.

Each list is declared once, as the condition a claim or revision meets, and
read by both the admin's home page (the counts) and the changelist filters
its links open, so a count and the list it leads to cannot disagree.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from her2db.registry import registry

from .models import ChangeEntry, Evidence, Revision

SUBMITTED = Evidence.Status.SUBMITTED
DRAFT = Evidence.Status.DRAFT


def _by_others(user) -> Q:
    # exclude() semantics by hand: a claim with no recorded creator is nobody's.
    created = Q(created_by=user) & Q(created_by__isnull=False)
    submitted = Q(submitted_by=user) & Q(submitted_by__isnull=False)
    return ~created & ~submitted


def _theirs(user) -> Q:
    return Q(created_by=user) | Q(submitted_by=user)


# name: (label, condition on Evidence for this user, permission needed)
CLAIM_LISTS = {
    "review": (
        "Claims waiting for your review",
        lambda user: Q(status=SUBMITTED) & _by_others(user),
        "therapies.review_evidence",
    ),
    "drafts": (
        "Your drafts",
        lambda user: Q(status=DRAFT, status_reason="", created_by=user),
        "therapies.change_evidence",
    ),
    "sent_back": (
        "Sent back or rejected: yours to revise",
        lambda user: (
            (
                Q(status=DRAFT) & ~Q(status_reason="")
                | Q(status=Evidence.Status.REJECTED)
            )
            & _theirs(user)
        ),
        "therapies.change_evidence",
    ),
    "retracted": (
        "Claims citing a retracted paper, not yet reviewed",
        lambda user: Q(pk__in=Evidence.objects.citing_retracted().values("pk")),
        "therapies.view_evidence",
    ),
}

REVISION_LISTS = {
    "review": (
        "Revisions waiting for your review",
        lambda user: Q(status=Revision.Status.SUBMITTED) & ~Q(created_by=user),
        "therapies.review_evidence",
    ),
}


@dataclass
class WorkItem:
    label: str
    count: int
    url: str


def claim_condition(name: str, user) -> Q:
    return CLAIM_LISTS[name][1](user)


def revision_condition(name: str, user) -> Q:
    return REVISION_LISTS[name][1](user)


def _counts(model, lists: dict, user) -> dict[str, int]:
    wanted = {
        name: Count("pk", filter=condition(user))
        for name, (_, condition, perm) in lists.items()
        if user.has_perm(perm)
    }
    return model.objects.aggregate(**wanted) if wanted else {}


def work_list(user) -> list[WorkItem]:
    """The user's lists with their counts: one query for claims, one for revisions."""
    items = []
    evidence = reverse("admin:therapies_evidence_changelist")
    for name, count in _counts(Evidence, CLAIM_LISTS, user).items():
        items.append(WorkItem(CLAIM_LISTS[name][0], count, f"{evidence}?work={name}"))
    revisions = reverse("admin:therapies_revision_changelist")
    for name, count in _counts(Revision, REVISION_LISTS, user).items():
        label = REVISION_LISTS[name][0]
        items.append(WorkItem(label, count, f"{revisions}?work={name}"))
    return items


@dataclass
class Change:
    entry: ChangeEntry
    url: str


def recent_changes(limit: int = 15) -> list[Change]:
    """The newest entries of the change feed, each linked to its record's list."""
    by_kind = {r.kind: r for r in registry if r.kind}
    changes = []
    for entry in ChangeEntry.objects.order_by("-changed_at", "-id")[:limit]:
        resource = by_kind.get(entry.kind)
        url = ""
        if resource is not None:
            opts = resource.model._meta
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            url = f"{changelist}?{urlencode({resource.key: entry.identifier})}"
        changes.append(Change(entry, url))
    return changes
