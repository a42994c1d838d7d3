"""The therapies endpoints: each list's queries, prefetches and counts, and the
review actions."""

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from her2db.api.conditional import ConditionalGetMixin
from her2db.api.fields import PREFETCHED, prefetched, resource_url
from her2db.api.schema import ErrorDetail
from her2db.api.serializers import change_reason
from her2db.api.viewsets import CuratedViewSet
from her2db.registry import registry
from references.models import Citation

from .filters import (
    AgentFilter,
    ChangeFilter,
    EvidenceFilter,
    MechanismFilter,
    OutcomeFilter,
    RevisionFilter,
    TargetFilter,
    TrialFilter,
)
from .map import MapForm, api_claims_url, as_json, map_from
from .models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    ChangeEntry,
    Evidence,
    EvidenceAgent,
    EvidenceCitation,
    EvidenceTrial,
    Mechanism,
    Outcome,
    OutcomeArmResult,
    Revision,
    Target,
    Trial,
    TrialArm,
    TrialArmAgent,
)
from .models.evidence import sees_unpublished
from .models.review import content_of
from .pages import NOT_ALLOWED, checked_form
from .serializers import (
    AgentSerializer,
    ChangeSerializer,
    EvidenceSerializer,
    MapSerializer,
    MechanismSerializer,
    OutcomeSerializer,
    RevisionSerializer,
    RevisionTransitionSerializer,
    TargetSerializer,
    TransitionSerializer,
    TrialSerializer,
)


def count_of(rows, outer: str, what: str = "pk", distinct: bool = False):
    """A correlated COUNT subquery: no GROUP BY on the outer query, no join fan-out."""
    counted = (
        rows.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count(what, distinct=distinct))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def visible(rows, user, path: str = "evidence__"):
    """Rows whose evidence the user may see (accepted only, for most)."""
    if sees_unpublished(user):
        return rows
    return rows.filter(**registry.public_lookups(Evidence, path))


def summaries(model, *fields):
    return model.objects.only("pk", *fields)


CITATION_SUMMARY = ["citation__citekey", "citation__title", "citation__year"]
APPROVAL_FIELDS = ["agent", *Approval.COLUMNS, "citation", "trial"]


class TargetViewSet(CuratedViewSet):
    """Genes and proteins, by HGNC symbol."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9-]*"
    ordering_fields = ["symbol", "name", "created_at", "updated_at"]

    def build_queryset(self):
        return Target.objects.prefetch_related(
            prefetched("agents", summaries(Agent, "slug", "name")),
            prefetched("mechanisms", summaries(Mechanism, "slug", "name")),
        )


class AgentViewSet(CuratedViewSet):
    """Therapeutic agents, by slug."""

    serializer_class = AgentSerializer
    filterset_class = AgentFilter
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering_fields = [
        "name",
        "slug",
        "modality",
        "development_status",
        "evidence_count",
        "trial_count",
        "created_at",
        "updated_at",
    ]

    def build_queryset(self):
        user = self.request.user
        return Agent.objects.prefetch_related(
            prefetched("aliases", AgentAlias.objects.order_by("alias")),
            prefetched(
                "agent_targets",
                AgentTarget.objects.select_related("target")
                .only(
                    "agent",
                    "action",
                    "binding_site",
                    "reversibility",
                    "target__symbol",
                    "target__name",
                )
                .order_by("target__symbol"),
            ),
            prefetched(
                "approvals",
                Approval.objects.select_related("citation", "trial")
                .only(
                    *APPROVAL_FIELDS,
                    *CITATION_SUMMARY,
                    "trial__nct_id",
                    "trial__acronym",
                    "trial__title",
                )
                .order_by("date", "agency", "indication"),
            ),
        ).annotate(
            evidence_count=count_of(
                visible(EvidenceAgent.objects.all(), user), "agent"
            ),
            trial_count=count_of(
                TrialArmAgent.objects.all(), "agent", "arm__trial", distinct=True
            ),
        )


class MechanismViewSet(CuratedViewSet):
    """Resistance mechanisms, by slug, in a tree under the review's categories."""

    serializer_class = MechanismSerializer
    filterset_class = MechanismFilter
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering_fields = [
        "name",
        "slug",
        "category",
        "evidence_count",
        "created_at",
        "updated_at",
    ]

    def build_queryset(self):
        return (
            Mechanism.objects.select_related("parent")
            .defer(
                "parent__description",
                "parent__category",
                "parent__parent",
                "parent__created_at",
                "parent__updated_at",
            )
            .prefetch_related(
                prefetched("children", summaries(Mechanism, "slug", "name", "parent")),
                prefetched("genes", summaries(Target, "symbol", "name")),
            )
            .annotate(
                evidence_count=count_of(
                    visible(Evidence.objects.all(), self.request.user, ""),
                    "mechanism",
                )
            )
        )


class TrialViewSet(CuratedViewSet):
    """Clinical trials, by NCT id."""

    serializer_class = TrialSerializer
    filterset_class = TrialFilter
    lookup_value_regex = r"NCT[0-9]{8}"
    ordering_fields = [
        "nct_id",
        "acronym",
        "phase",
        "status",
        "enrollment",
        "start_date",
        "evidence_count",
        "created_at",
        "updated_at",
    ]

    def get_serializer_context(self):
        # A trial's outcomes are on its own page, not in lists.
        return super().get_serializer_context() | {"show_outcomes": bool(self.detail)}

    def build_queryset(self):
        trials = Trial.objects.prefetch_related(
            prefetched(
                "arms",
                TrialArm.objects.order_by("id").prefetch_related(
                    prefetched("agents", summaries(Agent, "slug", "name"))
                ),
            ),
            prefetched("publications", summaries(Citation, "citekey", "title", "year")),
        ).annotate(
            evidence_count=count_of(
                visible(EvidenceTrial.objects.all(), self.request.user), "trial"
            )
        )
        if self.detail:
            trials = trials.prefetch_related(
                prefetched("outcomes", outcome_rows(Outcome.objects.all()))
            )
        return trials


def outcome_rows(outcomes):
    """Outcomes with their arms' values and citation, for a page of them."""
    return outcomes.select_related("citation").prefetch_related(
        prefetched(
            "arm_results",
            OutcomeArmResult.objects.select_related("arm").only(
                *(f.name for f in OutcomeArmResult._meta.concrete_fields),
                "arm__label",
            ),
        )
    )


class OutcomeViewSet(CuratedViewSet):
    """Trials' reported results, by UID."""

    serializer_class = OutcomeSerializer
    filterset_class = OutcomeFilter
    lookup_value_regex = (
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    )
    ordering_fields = [
        "endpoint",
        "analysis",
        "data_cutoff",
        "estimate",
        "p_value",
        "created_at",
        "updated_at",
    ]

    def build_queryset(self):
        return outcome_rows(Outcome.objects.select_related("trial"))


EVIDENCE_ID = OpenApiParameter(
    "id",
    str,
    OpenApiParameter.PATH,
    description="The evidence item's number or its UID (stable across releases).",
    pattern=r"^([0-9]{1,18}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
)


def transition_action(step, answer, identifier, description: str):
    """POST .../transition/ on one object: a review step, as the schema shows it."""

    def decorate(method):
        method = action(
            detail=True, methods=["post"], permission_classes=[IsAuthenticated]
        )(method)
        return extend_schema(
            request=step,
            responses=answer,
            parameters=[identifier],
            description=description,
        )(method)

    return decorate


REVISED = (
    "A change to an accepted claim's content is not applied: it becomes a "
    "revision (202, the revision in the body, its URL in Location) that readers "
    "do not see until an editor accepts it. X-Change-Reason becomes its note. "
    "A write that changes nothing readers see is applied as usual (200)."
)


@extend_schema_view(
    retrieve=extend_schema(parameters=[EVIDENCE_ID]),
    update=extend_schema(
        parameters=[EVIDENCE_ID],
        description=REVISED,
        responses={200: EvidenceSerializer, 202: RevisionSerializer},
    ),
    partial_update=extend_schema(
        parameters=[EVIDENCE_ID],
        description=REVISED,
        responses={200: EvidenceSerializer, 202: RevisionSerializer},
    ),
    destroy=extend_schema(parameters=[EVIDENCE_ID]),
)
class EvidenceViewSet(CuratedViewSet):
    """Curated evidence, by number or UID. Anonymous readers see accepted items."""

    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilter
    lookup_value_regex = (
        r"[0-9]{1,18}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    )
    ordering_fields = [
        "id",
        "level",
        "effect",
        "mechanism__name",
        "created_at",
        "updated_at",
    ]

    def shows_revisions(self) -> bool:
        """One claim, to a reader who may see unpublished evidence."""
        return bool(self.detail) and sees_unpublished(self.request.user)

    def get_serializer_context(self):
        return super().get_serializer_context() | {
            "show_revisions": self.shows_revisions()
        }

    def build_queryset(self):
        claims = self.claims()
        if self.shows_revisions():
            claims = claims.prefetch_related(
                Prefetch(
                    "revisions",
                    Revision.objects.filter(status=Revision.Status.SUBMITTED).only(
                        "evidence"
                    ),
                    to_attr=PREFETCHED.format("pending_revisions"),
                )
            )
        return claims

    def claims(self):
        return (
            Evidence.objects.visible_to(self.request.user)
            .select_related("mechanism")
            .defer(
                "mechanism__description",
                "mechanism__category",
                "mechanism__parent",
                "mechanism__created_at",
                "mechanism__updated_at",
            )
            .prefetch_related(
                prefetched("agents", summaries(Agent, "slug", "name")),
                prefetched(
                    "evidence_citations",
                    EvidenceCitation.objects.select_related("citation")
                    .only(
                        "evidence",
                        "citation",
                        "quote",
                        "location",
                        "retraction_reviewed",
                        "citation__retracted",
                        *CITATION_SUMMARY,
                    )
                    .order_by("citation__citekey"),
                ),
                prefetched("trials", summaries(Trial, "nct_id", "acronym", "title")),
            )
        )

    def lookup_filter(self, value: str) -> dict:
        return {"uid": value} if "-" in value else {"pk": value}

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    def write_update(self, serializer):
        """An accepted claim's content changes only through a revision."""
        evidence = serializer.instance
        if evidence.status != Evidence.Status.ACCEPTED:
            return super().write_update(serializer)
        base = content_of(evidence)
        proposed = serializer.proposed_content(serializer.validated_data, base)
        if proposed == base:
            # Nothing readers see changes (at most a reviewer's retraction mark).
            return super().write_update(serializer)
        request = self.request
        revision = Revision.propose(
            evidence, proposed, request.user, note=change_reason(request)
        )
        self.mark_retractions(evidence, serializer.validated_data)
        data = RevisionSerializer(revision, context=self.get_serializer_context()).data
        return Response(
            data, status=http.HTTP_202_ACCEPTED, headers={"Location": data["url"]}
        )

    @staticmethod
    def mark_retractions(evidence, attrs) -> None:
        """A reviewer's retraction marks are not content: they apply at once,
        beside the revision that proposes the rest."""
        marks = {
            item["citation"].pk: item["retraction_reviewed"]
            for item in attrs.get("evidence_citations", ())
            if "retraction_reviewed" in item
        }
        for link in evidence.evidence_citations.filter(citation__in=list(marks)):
            if link.retraction_reviewed != marks[link.citation_id]:
                link.retraction_reviewed = marks[link.citation_id]
                link.save()

    @transition_action(
        TransitionSerializer,
        EvidenceSerializer,
        EVIDENCE_ID,
        "Move the item through review: submit, accept, reject, send back, retire "
        "or revise. Who, when and why go into its history.",
    )
    def transition(self, request, id=None):
        evidence = self.get_object()
        step = TransitionSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        evidence.transition(
            step.validated_data["action"],
            request.user,
            step.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(self.reread(evidence)).data)


REVISION_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The revision's number."
)


@extend_schema_view(
    list=extend_schema(
        description="Proposed changes to accepted claims, by claim. Only those "
        "who may see unpublished evidence see any."
    ),
    retrieve=extend_schema(parameters=[REVISION_ID]),
)
class RevisionViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """Revisions of accepted claims, and their review."""

    serializer_class = RevisionSerializer
    filterset_class = RevisionFilter
    lookup_value_regex = r"[0-9]{1,18}"
    ordering_fields = ["id", "created_at", "reviewed_at"]

    def get_queryset(self):
        if not sees_unpublished(self.request.user):
            # Proposals are never public: a 404, as a draft claim is.
            return Revision.objects.none()
        return Revision.objects.select_related(
            "evidence", "created_by", "reviewed_by"
        ).only(
            *(f.name for f in Revision._meta.concrete_fields),
            "evidence__uid",
            "created_by__username",
            "reviewed_by__username",
        )

    @transition_action(
        RevisionTransitionSerializer,
        RevisionSerializer,
        REVISION_ID,
        "Accept a revision (applies it to its claim, atomically) or reject it "
        "with a reason. Editors only; nobody accepts their own.",
    )
    def transition(self, request, pk=None):
        step = RevisionTransitionSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        with transaction.atomic():
            revision = self.get_object()
            revision = Revision.objects.select_for_update().get(pk=revision.pk)
            if step.validated_data["action"] == "accept":
                revision.accept(request.user)
            else:
                revision.reject(request.user, step.validated_data.get("reason", ""))
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(
    list=extend_schema(
        summary="Changes to public data",
        description=(
            "Every creation, update and deletion (or withdrawal of a claim) of "
            "public data, oldest first. Poll with `?since=` set to the "
            "`changed_at` of the last change you saw to keep a copy in sync. "
            "Changes to unpublished evidence never appear."
        ),
    ),
)
class ChangeViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ChangeEntry.objects.all()
    serializer_class = ChangeSerializer
    filterset_class = ChangeFilter
    ordering_fields = ["changed_at"]
    ordering = ["changed_at", "id"]


def map_parameters() -> list[OpenApiParameter]:
    """The map's query parameters, from the form every map page shares."""
    parameters = []
    for name, form_field in MapForm.base_fields.items():
        choices = [value for value, _ in getattr(form_field, "choices", ())]
        parameters.append(
            OpenApiParameter(
                name,
                {"type": "array", "items": {"type": "string", "enum": choices}}
                if choices
                else bool,
                description=form_field.help_text
                + (
                    " Repeat the parameter or separate values with commas."
                    if choices
                    else ""
                ),
                explode=True if choices else None,
            )
        )
    return parameters


class MapView(ConditionalGetMixin, APIView):
    """The resistance map as data: agents by mechanisms, each cell counting
    claims (see therapies/map.py for what each count means)."""

    # Read-only: anyone may read it; who sees unpublished claims is checked
    # with the parameters. Other methods are 405.
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="map_retrieve",
        summary="The resistance map",
        description=(
            "Agents (columns) by resistance mechanisms (rows). Each cell counts "
            "the accepted claims about one agent and one mechanism (the "
            "mechanism itself, not those below it): `resistance` supports that "
            "the mechanism confers resistance or reduces sensitivity, "
            "`overcomes` that the agent overcomes it or restores sensitivity, "
            "`other` is the rest (no effect, or not supported). "
            "`strongest_level` is the best level among the cell's claims (A "
            "strongest). A combination claim counts under each of its agents. "
            "Agents and mechanisms without claims are left out and listed in "
            "`folded_agents` and `folded_mechanisms`. The same map is drawn at "
            "/map/ (SVG at /map/map.svg) with the same parameters."
        ),
        parameters=map_parameters(),
        responses={
            200: MapSerializer,
            403: OpenApiResponse(
                ErrorDetail,
                description="Unpublished claims asked for by someone who may "
                "not see them.",
            ),
        },
    )
    def get(self, request):
        form = checked_form(request, public=False)
        if form.errors.get("unpublished") == [NOT_ALLOWED]:
            raise PermissionDenied(NOT_ALLOWED)
        if form.errors:
            raise ValidationError({k: list(v) for k, v in form.errors.items()})
        found = map_from(form)
        return Response(
            as_json(
                found,
                api_claims_url(
                    request.build_absolute_uri(reverse("evidence-list")),
                    form.query(),
                ),
                lambda agent: resource_url(request, "agents", agent.slug),
                lambda mechanism: resource_url(request, "mechanisms", mechanism.slug),
            )
        )
