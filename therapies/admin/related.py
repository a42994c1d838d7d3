"""From a record to its evidence: the claims section of a change page."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q
from django.urls import reverse

from ..models import Agent, Evidence

# Claims listed on a page; the counts and the link cover them all.
SHOWN = 50


@dataclass
class EvidenceSection:
    """The claims about one record that this user may see, with their counts."""

    parameter: str
    pk: int
    total: int
    claims: list
    counts: list = field(default_factory=list)  # (label, count, url)

    @property
    def url(self) -> str:
        changelist = reverse("admin:therapies_evidence_changelist")
        return f"{changelist}?{self.parameter}={self.pk}"

    @property
    def more(self) -> int:
        return self.total - len(self.claims)


def evidence_section(user, parameter: str, pk: int, ids) -> EvidenceSection:
    """Three queries whatever the number of claims: counts, claims, their agents."""
    claims = Evidence.objects.visible_to(user).filter(pk__in=ids)
    statuses = Evidence.Status
    counts = claims.aggregate(
        total=Count("pk"),
        **{s.value: Count("pk", filter=Q(status=s.value)) for s in statuses},
    )
    section = EvidenceSection(parameter, pk, counts["total"], [])
    for status in statuses:
        if counts[status.value]:
            url = f"{section.url}&status__exact={status.value}"
            section.counts.append((status.label, counts[status.value], url))
    if section.total:
        section.claims = list(
            claims.select_related("mechanism").prefetch_related(
                Prefetch("agents", queryset=Agent.objects.only("id", "name"))
            )[:SHOWN]
        )
    return section


class RelatedEvidenceMixin:
    """A change page that lists the claims about its record.

    `evidence_filter` is the evidence list's filter for this kind of record
    (therapies/admin/filters.py): the section and its links select the same
    claims the filtered list shows.
    """

    evidence_filter = None

    def render_change_form(self, request, context, add=False, change=False, **kw):
        obj = context.get("original")
        if obj is not None and obj.pk is not None:
            flt = self.evidence_filter
            context["related_evidence"] = evidence_section(
                request.user, flt.parameter_name, obj.pk, flt.matching(obj.pk)
            )
        return super().render_change_form(request, context, add, change, **kw)
