"""Targets, agents, mechanisms, trials, evidence and revisions as the API reads
and writes them."""

from decimal import Decimal

from rest_framework import serializers
from rest_framework.fields import SkipField

from her2db.api.fields import (
    PREFETCHED,
    LinkField,
    PrefetchedListSerializer,
    StrictCharField,
    Summary,
    SummaryRelatedField,
    resource_url,
)
from her2db.api.serializers import CuratedSerializer, RowSerializer
from references.models import Citation
from references.serializers import CitationSummary

from .models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    ChangeEntry,
    Evidence,
    EvidenceCitation,
    Mechanism,
    Outcome,
    OutcomeArmResult,
    Revision,
    Target,
    Trial,
    TrialArm,
)
from .models.review import CITATION_FIELDS, CONTENT_FIELDS
from .rules import agent_problems, approval_problems, trial_problems

# --- Summaries: how one resource shows another ----------------------------------


class AgentSummary(Summary):
    """An agent in brief, as other resources show it."""

    model, names = Agent, ("slug", "name")

    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.URLField()


class TargetSummary(Summary):
    """A target in brief, as other resources show it."""

    model, names = Target, ("symbol", "name")

    symbol = serializers.CharField()
    name = serializers.CharField()
    url = serializers.URLField()


class MechanismSummary(Summary):
    """A mechanism in brief, as other resources show it."""

    model, names = Mechanism, ("slug", "name")

    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.URLField()


class TrialSummary(Summary):
    """A trial in brief, as other resources show it."""

    model, names = Trial, ("nct_id", "acronym", "title")

    nct_id = serializers.CharField()
    acronym = serializers.CharField()
    title = serializers.CharField()
    url = serializers.URLField()


def agents_field(**kwargs):
    return SummaryRelatedField(AgentSummary, queryset=Agent.objects.all(), **kwargs)


def citation_field(**kwargs):
    return SummaryRelatedField(
        CitationSummary, queryset=Citation.objects.all(), **kwargs
    )


# --- Targets ----------------------------------------------------------------------


class CommaListField(serializers.ListField):
    """A comma-separated text column shown and written as a list of strings."""

    child = StrictCharField(max_length=255)

    def to_representation(self, data):
        return [item.strip() for item in data.split(",") if item.strip()]

    def to_internal_value(self, data):
        items = super().to_internal_value(data)
        if any("," in item for item in items):
            raise serializers.ValidationError("An item cannot contain a comma.")
        return ", ".join(item.strip() for item in items if item.strip())


class TargetSerializer(CuratedSerializer):
    """A gene or protein, by HGNC symbol, with the agents and mechanisms that
    involve it."""

    url = LinkField()
    aliases = CommaListField(required=False, help_text='e.g. ["HER2", "NEU"]')
    agents = AgentSummary(many=True, read_only=True)
    mechanisms = MechanismSummary(many=True, read_only=True)

    class Meta:
        model = Target
        fields = [
            "url",
            "symbol",
            "name",
            "aliases",
            "hgnc_id",
            "uniprot_id",
            "agents",
            "mechanisms",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# --- Agents -----------------------------------------------------------------------


class AgentAliasSerializer(RowSerializer):
    class Meta:
        model = AgentAlias
        fields = ["alias", "kind"]
        validators = []  # checked with the model's constraints by the agent
        list_serializer_class = PrefetchedListSerializer


class AgentTargetSerializer(RowSerializer):
    target = SummaryRelatedField(TargetSummary, queryset=Target.objects.all())

    class Meta:
        model = AgentTarget
        fields = ["target", "action", "binding_site", "reversibility"]
        validators = []
        list_serializer_class = PrefetchedListSerializer


class ApprovalSerializer(RowSerializer):
    citation = citation_field(allow_null=True, required=False)
    trial = SummaryRelatedField(
        TrialSummary,
        queryset=Trial.objects.all(),
        allow_null=True,
        required=False,
        help_text="The trial the approval rests on (its NCT id).",
    )

    class Meta:
        model = Approval
        fields = [*Approval.COLUMNS, "citation", "trial"]
        validators = []
        list_serializer_class = PrefetchedListSerializer


class AgentSerializer(CuratedSerializer):
    """A therapeutic agent, by slug, with its targets, approvals and counts."""

    url = LinkField()
    aliases = AgentAliasSerializer(
        many=True, required=False, help_text="Brand and code names, synonyms."
    )
    targets = AgentTargetSerializer(
        source="agent_targets",
        many=True,
        required=False,
        help_text="Writing replaces the list; rows are matched by target.",
    )
    approvals = ApprovalSerializer(
        many=True,
        required=False,
        help_text="Writing replaces the list; rows are matched by agency, date "
        "and indication. An agent whose development_status is APPROVED has at "
        "least one.",
    )
    evidence_count = serializers.IntegerField(
        read_only=True, help_text="Evidence items about this agent you can see."
    )
    trial_count = serializers.IntegerField(
        read_only=True, help_text="Trials with an arm giving this agent."
    )
    drug_to_antibody_ratio = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=Decimal("20"),
        allow_null=True,
        required=False,
        help_text="Antibody-drug conjugates only.",
    )

    owned_rows = {
        "aliases": ("agent", ("alias",)),
        "agent_targets": ("agent", ("target",)),
        "approvals": ("agent", ("agency", "date", "indication")),
    }

    def record_problems(self, attrs) -> dict:
        # Whatever the write sets: an agent marked approved without an
        # approval is refused until one is added or the status changes.
        status = attrs.get(
            "development_status", getattr(self.instance, "development_status", None)
        )
        problems = agent_problems(status, self.rows_after("approvals", attrs))
        return problems or self.approval_problems(attrs.get("approvals", []))

    def approval_problems(self, rows) -> dict:
        """The rules of each approval this write adds or changes, by position."""
        parent_field, keys = self.owned_rows["approvals"]
        stored = self.current_rows("approvals", parent_field, keys)
        errors = {}
        for index, row in enumerate(rows):
            kept = stored.get(self.row_key(Approval, keys, row))
            if kept is not None and all(
                getattr(kept, name) == value for name, value in row.items()
            ):
                continue
            problems = approval_problems(
                row.get("her2_positive_breast", False),
                row.get("citation", getattr(kept, "citation", None)),
                row.get("trial", getattr(kept, "trial", None)),
            )
            if problems:
                errors[index] = problems
        return {"approvals": errors} if errors else {}

    class Meta:
        model = Agent
        fields = [
            "url",
            "slug",
            "name",
            "abbreviation",
            "aliases",
            "modality",
            "development_status",
            "mechanism_of_action",
            "targets",
            "approvals",
            "chembl_id",
            "drugbank_id",
            "ncit_id",
            "payload",
            "linker",
            "linker_cleavable",
            "drug_to_antibody_ratio",
            "evidence_count",
            "trial_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# --- Mechanisms -------------------------------------------------------------------


class MechanismSerializer(CuratedSerializer):
    """A resistance mechanism, by slug, in its place in the tree."""

    url = LinkField()
    parent = SummaryRelatedField(
        MechanismSummary,
        queryset=Mechanism.objects.all(),
        allow_null=True,
        required=False,
        help_text="The broader mechanism; its category is this one's.",
    )
    children = MechanismSummary(many=True, read_only=True)
    genes = SummaryRelatedField(
        TargetSummary, queryset=Target.objects.all(), many=True, required=False
    )
    evidence_count = serializers.IntegerField(
        read_only=True,
        help_text="Evidence items filed under this mechanism itself that you "
        "can see (filter evidence by mechanism for the whole subtree).",
    )

    many_to_many = ("genes",)

    class Meta:
        model = Mechanism
        fields = [
            "url",
            "slug",
            "name",
            "category",
            "parent",
            "children",
            "description",
            "genes",
            "evidence_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# --- Trials -----------------------------------------------------------------------


class TrialArmSerializer(RowSerializer):
    agents = agents_field(many=True, required=False)

    class Meta:
        model = TrialArm
        fields = ["label", "role", "description", "agents"]
        validators = []
        list_serializer_class = PrefetchedListSerializer


class DecimalNumberField(serializers.DecimalField):
    """A decimal column written as a JSON number (a forest plot wants numbers)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if type(value) is Decimal and value.as_tuple().exponent == -self.decimal_places:
            return float(value)  # already as DRF would quantize it
        return float(super().to_representation(value))


class ArmLabelField(StrictCharField):
    """An arm of the outcome's trial, read and written as its label."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    # Read from values (her2db/api/reads.py): the arm's label column.
    values_lookup = "arm__label"

    def to_representation(self, value):
        return value.label


class OutcomeArmResultSerializer(RowSerializer):
    arm = ArmLabelField(help_text="The label of one of the trial's arms.")
    value = DecimalNumberField(max_digits=8, decimal_places=3)
    ci_lower = DecimalNumberField(max_digits=8, decimal_places=3)
    ci_upper = DecimalNumberField(max_digits=8, decimal_places=3)
    timepoint_years = DecimalNumberField(
        max_digits=4, decimal_places=1, min_value=Decimal("0")
    )

    class Meta:
        model = OutcomeArmResult
        fields = list(OutcomeArmResult.COLUMNS)
        validators = []
        list_serializer_class = PrefetchedListSerializer


class OutcomeSerializer(CuratedSerializer):
    """A result a trial reported: endpoint, population, analysis, each arm's
    value, the comparison, and where it was read."""

    url = LinkField()
    trial = SummaryRelatedField(TrialSummary, queryset=Trial.objects.all())
    estimate = DecimalNumberField(
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("0"),
        help_text="The hazard or odds ratio.",
    )
    ci_lower = DecimalNumberField(max_digits=8, decimal_places=4)
    ci_upper = DecimalNumberField(max_digits=8, decimal_places=4)
    p_value = DecimalNumberField(
        max_digits=12,
        decimal_places=10,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
    )
    arms = OutcomeArmResultSerializer(
        source="arm_results",
        many=True,
        required=False,
        help_text="Each arm's value. Writing replaces the list; rows are matched "
        "by arm.",
    )
    citation = citation_field(allow_null=True, required=False)

    owned_rows = {"arm_results": ("outcome", ("arm",))}

    def validate(self, attrs):
        # Arms are named by label: the outcome's trial's arms, no other.
        if "arm_results" in attrs:
            trial = attrs.get("trial", getattr(self.instance, "trial", None))
            arms = {}
            if trial is not None:
                arms = {arm.label.casefold(): arm for arm in trial.arms.all()}
            errors = {}
            for index, row in enumerate(attrs["arm_results"]):
                arm = arms.get(row["arm"].casefold())
                if arm is None:
                    errors[index] = {
                        "arm": [f"{trial} has no arm labelled {row['arm']!r}."]
                    }
                row["arm"] = arm
            if errors:
                raise serializers.ValidationError({"arms": errors})
        elif (
            self.instance is not None
            and "trial" in attrs
            and attrs["trial"] != self.instance.trial
            and self.instance.arm_results.exists()
        ):
            raise serializers.ValidationError(
                {"trial": ["Its arms' values name arms of its trial; rewrite them."]}
            )
        return super().validate(attrs)

    class Meta:
        model = Outcome
        fields = [
            "url",
            "uid",
            "trial",
            "endpoint",
            "event",
            "population",
            "analysis",
            "data_cutoff",
            "arms",
            "measure",
            "estimate",
            "ci_lower",
            "ci_upper",
            "p_value",
            "p_qualifier",
            "crossed_boundary",
            "citation",
            "locator",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uid", "created_at", "updated_at"]


class TrialOutcomeSerializer(OutcomeSerializer):
    """An outcome as its trial shows it (the trial left out)."""

    class Meta(OutcomeSerializer.Meta):
        fields = [f for f in OutcomeSerializer.Meta.fields if f != "trial"]
        read_only_fields = fields


class DetailOnlyList(PrefetchedListSerializer):
    """A trial's outcomes, on the trial's own page only: lists leave the key out
    (their floor, tests/bench/floor.py, stays what it was)."""

    sometimes_absent = True

    @staticmethod
    def shown_in(context) -> bool:
        return bool(context.get("show_outcomes"))

    def get_attribute(self, instance):
        if not self.shown_in(self.context):
            raise SkipField
        return super().get_attribute(instance)


class DetailOnlyOutcomes(TrialOutcomeSerializer):
    class Meta(TrialOutcomeSerializer.Meta):
        list_serializer_class = DetailOnlyList


class TrialSerializer(CuratedSerializer):
    """A clinical trial, by NCT id, with its arms and publications (and, on its
    own page, its outcomes)."""

    url = LinkField()
    registry_url = serializers.URLField(read_only=True)
    arms = TrialArmSerializer(
        many=True,
        required=False,
        help_text="Writing replaces the list; arms are matched by label.",
    )
    publications = citation_field(many=True, required=False)
    evidence_count = serializers.IntegerField(
        read_only=True, help_text="Evidence items resting on this trial you can see."
    )
    outcomes = DetailOnlyOutcomes(
        many=True,
        read_only=True,
        help_text="Its reported results (on the trial's own page; write them "
        "through /api/v1/outcomes/).",
    )

    owned_rows = {"arms": ("trial", ("label",))}
    many_to_many = ("publications",)

    def record_problems(self, attrs) -> dict:
        if self.instance is not None and "arms" not in attrs:
            return {}
        stored = {}
        if self.instance is not None:
            stored = {arm.label.casefold(): arm for arm in self.instance.arms.all()}
        arms = []
        for arm in attrs.get("arms", []):
            # What a written arm leaves out (its agents, physician's choice,
            # which the API does not show) stays as stored.
            kept = stored.get(arm["label"].casefold())
            arms.append(
                {
                    "physicians_choice": bool(kept and kept.physicians_choice),
                    "agents": list(kept.agents.all()) if kept else [],
                }
                | arm
            )
        return trial_problems(arms)

    class Meta:
        model = Trial
        fields = [
            "url",
            "nct_id",
            "registry_url",
            "acronym",
            "title",
            "official_title",
            "phase",
            "status",
            "setting",
            "enrollment",
            "start_date",
            "start_date_type",
            "completion_date",
            "completion_date_type",
            "sponsor",
            "population",
            "conditions",
            "primary_endpoint",
            "result_summary",
            "arms",
            "publications",
            "outcomes",
            "evidence_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# --- Evidence ---------------------------------------------------------------------


class EvidenceCitationSerializer(RowSerializer):
    citation = citation_field()

    class Meta:
        model = EvidenceCitation
        fields = ["citation", "quote", "location", "retraction_reviewed"]
        validators = []
        list_serializer_class = PrefetchedListSerializer


class PendingRevisionsField(serializers.SerializerMethodField):
    """A claim's pending revisions, only where the view shows them.

    Readers' copy stays as it was (pending revisions are not public), and
    lists leave them out: the key is absent, not empty.
    """

    sometimes_absent = True

    @staticmethod
    def shown_in(context) -> bool:
        return bool(context.get("show_revisions"))

    def get_attribute(self, instance):
        if not self.shown_in(self.context):
            raise SkipField
        return super().get_attribute(instance)


def retraction_warning(citekey: str) -> str:
    return (
        f"Cites a retracted paper ({citekey}); no curator has reviewed this "
        "claim since."
    )


class WarningsField(serializers.SerializerMethodField):
    """Why a reader should take care of a claim (`get_warnings`); read from
    values (her2db/api/reads.py) from the rows of its citations."""

    values_needs = {"citations": ["citation__retracted"]}

    @staticmethod
    def from_values(row, found) -> list[str]:
        return [
            retraction_warning(link["citation__citekey"])
            for link in found["citations rows"].get(row["pk"], ())
            if link["citation__retracted"] and not link["retraction_reviewed"]
        ]


class EvidenceSerializer(CuratedSerializer):
    """A curated claim: agents, a mechanism, what the claim says, its sources.

    `status` moves only through POST .../transition/.
    """

    url = LinkField()
    agents = agents_field(
        many=True, allow_empty=False, help_text="Several make a combination."
    )
    mechanism = SummaryRelatedField(MechanismSummary, queryset=Mechanism.objects.all())
    citations = EvidenceCitationSerializer(
        source="evidence_citations",
        many=True,
        allow_empty=False,
        help_text="At least one. Writing replaces the list; rows are matched "
        "by citation.",
    )
    trials = SummaryRelatedField(
        TrialSummary, queryset=Trial.objects.all(), many=True, required=False
    )

    warnings = WarningsField(
        help_text="Why a reader should take care, e.g. a retracted source that no "
        "curator has reviewed the claim against yet."
    )

    revisions = PendingRevisionsField(
        help_text="Revisions of this claim waiting for review (their URLs). "
        "Shown only to those who may see unpublished evidence, on one claim."
    )

    owned_rows = {"evidence_citations": ("evidence", ("citation",))}
    many_to_many = ("agents", "trials")

    def get_revisions(self, evidence) -> list[str]:
        pending = evidence.__dict__.get(PREFETCHED.format("pending_revisions"))
        if pending is None:
            pending = evidence.revisions.filter(status=Revision.Status.SUBMITTED)
        request = self.context.get("request")
        return [resource_url(request, "revisions", r.pk) for r in pending]

    def proposed_content(self, attrs, base: dict) -> dict:
        """The claim's content (as `content_of` gives it) after this write.

        A citation row that leaves out its quote or location keeps the one it
        has; a new row starts without. `retraction_reviewed` is a reviewer's
        mark, not content, and is not part of it.
        """
        content = dict(base)
        content.update({name: attrs[name] for name in CONTENT_FIELDS if name in attrs})
        if "mechanism" in attrs:
            content["mechanism"] = attrs["mechanism"].slug
        if "agents" in attrs:
            content["agents"] = sorted(agent.slug for agent in attrs["agents"])
        if "trials" in attrs:
            content["trials"] = sorted(trial.nct_id for trial in attrs["trials"])
        if "evidence_citations" in attrs:
            now = {row["citation"]: row for row in base["citations"]}
            rows = []
            for item in attrs["evidence_citations"]:
                citekey = item["citation"].citekey
                kept = now.get(citekey, dict.fromkeys(CITATION_FIELDS, ""))
                rows.append(
                    {"citation": citekey}
                    | {name: item.get(name, kept[name]) for name in CITATION_FIELDS}
                )
            content["citations"] = sorted(rows, key=lambda row: row["citation"])
        return content

    def get_warnings(self, evidence) -> list[str]:
        links = evidence.__dict__.get(PREFETCHED.format("evidence_citations"))
        if links is None:
            links = evidence.evidence_citations.select_related("citation")
        return [
            retraction_warning(link.citation.citekey)
            for link in links
            if link.citation.retracted and not link.retraction_reviewed
        ]

    class Meta:
        model = Evidence
        fields = [
            "url",
            "id",
            "uid",
            "agents",
            "mechanism",
            "effect",
            "direction",
            "level",
            "origin",
            "model_system",
            "statement",
            "citations",
            "trials",
            "warnings",
            "revisions",
            "status",
            "status_reason",
            "submitted_at",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "uid",
            "status",
            "status_reason",
            "submitted_at",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=list(Evidence.TRANSITIONS),
        help_text="submit, accept, reject, send_back, retire or revise.",
    )
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Required to reject (and to send back or retire a claim).",
    )


class RevisionEvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    url = serializers.SerializerMethodField()

    def get_url(self, evidence) -> str:
        return resource_url(self.context.get("request"), "evidence", evidence.pk)


class RevisionSerializer(serializers.ModelSerializer):
    """A proposed change to an accepted claim: what it changes, and its review.

    `content` is the claim as proposed, `base` the claim when it was
    proposed, `changed` the fields they differ on.
    """

    url = LinkField()
    evidence = RevisionEvidenceSerializer(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Revision
        fields = [
            "url",
            "id",
            "evidence",
            "changed",
            "content",
            "base",
            "note",
            "status",
            "reason",
            "created_by",
            "reviewed_by",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RevisionTransitionSerializer(TransitionSerializer):
    action = serializers.ChoiceField(
        choices=["accept", "reject"],
        help_text="accept (applies the revision to its claim) or reject.",
    )


class ChangeSerializer(serializers.ModelSerializer):
    """One change to public data; `fields` names the fields that changed."""

    class Meta:
        model = ChangeEntry
        fields = ["id", "kind", "identifier", "action", "changed_at", "fields"]
        read_only_fields = fields


# The resistance map (/api/v1/map/): documents therapies.map.as_json for the
# schema; the view builds the data itself.


class MapFiltersSerializer(serializers.Serializer):
    modality = serializers.ListField(
        child=serializers.ChoiceField(Agent.Modality.choices)
    )
    category = serializers.ListField(
        child=serializers.ChoiceField(Mechanism.Category.choices)
    )
    level = serializers.ListField(child=serializers.ChoiceField(Evidence.Level.choices))
    unpublished = serializers.BooleanField(
        help_text="Whether unpublished claims are counted."
    )


class MapAgentSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    abbreviation = serializers.CharField()
    modality = serializers.ChoiceField(Agent.Modality.choices)
    url = serializers.URLField()


class MapMechanismSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    category = serializers.ChoiceField(Mechanism.Category.choices)
    parent = serializers.CharField(
        allow_null=True, help_text="The parent mechanism's slug."
    )
    depth = serializers.IntegerField(help_text="0 for a category's root.")
    url = serializers.URLField()


class MapCellSerializer(serializers.Serializer):
    agent = serializers.CharField(help_text="The agent's slug.")
    mechanism = serializers.CharField(help_text="The mechanism's slug.")
    resistance = serializers.IntegerField(
        help_text="Claims supporting that the mechanism confers resistance or "
        "reduces sensitivity."
    )
    overcomes = serializers.IntegerField(
        help_text="Claims supporting that the agent overcomes the mechanism "
        "(or restores sensitivity)."
    )
    other = serializers.IntegerField(
        help_text="The rest: no effect on sensitivity, or not supported."
    )
    claims = serializers.IntegerField(help_text="All of the cell's claims.")
    strongest_level = serializers.ChoiceField(Evidence.Level.choices)
    evidence = serializers.URLField(help_text="The cell's claims in the evidence list.")


class MapSerializer(serializers.Serializer):
    filters = MapFiltersSerializer()
    agents = MapAgentSerializer(many=True, help_text="Columns: agents with claims.")
    mechanisms = MapMechanismSerializer(
        many=True, help_text="Rows: mechanisms with claims, in tree order."
    )
    cells = MapCellSerializer(many=True, help_text="Only cells with claims.")
    folded_agents = serializers.ListField(
        child=serializers.CharField(), help_text="Slugs of agents without claims."
    )
    folded_mechanisms = serializers.ListField(
        child=serializers.CharField(),
        help_text="Slugs of mechanisms without claims.",
    )
