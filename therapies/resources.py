"""The therapies app's resources: targets, agents, mechanisms, trials, evidence.

Declared in release order: each model after the models it points at.
"""

from her2db.registry import Resource, registry

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
    MechanismGene,
    Revision,
    Target,
    Trial,
    TrialArm,
    TrialArmAgent,
    TrialPublication,
)

registry.register(
    Resource(
        Target,
        key="symbol",
        basename="targets",
        viewset="therapies.views.TargetViewSet",
        kind="target",
        search=(
            ("A", ("symbol", "aliases", "hgnc_id", "uniprot_id")),
            ("B", ("name",)),
        ),
    ),
    Resource(
        Agent,
        key="slug",
        basename="agents",
        viewset="therapies.views.AgentViewSet",
        kind="agent",
        search=(
            (
                "A",
                ("name", "slug", "abbreviation", "chembl_id", "drugbank_id", "ncit_id"),
            ),
            ("C", ("mechanism_of_action", "payload")),
        ),
        # An agent is also found by its aliases.
        search_related=((AgentAlias, "agent", ("alias",)),),
    ),
    Resource(AgentAlias, owner="agent", feed_field="aliases"),
    Resource(AgentTarget, owner="agent", feed_field="targets"),
    Resource(Approval, owner="agent", feed_field="approvals"),
    Resource(
        Mechanism,
        key="slug",
        basename="mechanisms",
        viewset="therapies.views.MechanismViewSet",
        kind="mechanism",
        search=(("A", ("name", "slug")), ("C", ("description",))),
    ),
    # Genes are kept in the mechanism's own history (m2m_fields).
    Resource(MechanismGene, owner="mechanism"),
    Resource(
        Trial,
        key="nct_id",
        basename="trials",
        viewset="therapies.views.TrialViewSet",
        kind="trial",
        search=(
            ("A", ("nct_id", "acronym")),
            ("B", ("title", "official_title")),
            ("C", ("sponsor", "conditions")),
        ),
    ),
    Resource(TrialArm, owner="trial", feed_field="arms"),
    Resource(TrialArmAgent, owner="arm.trial"),
    Resource(TrialPublication, owner="trial"),
    Resource(
        Evidence,
        key="uid",
        basename="evidence",
        viewset="therapies.views.EvidenceViewSet",
        lookup="id",
        kind="evidence",
        # Readers without the unpublished-evidence permission see accepted
        # claims only; a claim's own rows follow its status.
        public={"status": Evidence.Status.ACCEPTED},
        search=(("A", ("statement",)),),
    ),
    Resource(EvidenceAgent, owner="evidence"),
    Resource(EvidenceTrial, owner="evidence"),
    Resource(EvidenceCitation, owner="evidence", feed_field="citations"),
    # Proposed changes to accepted claims: seen by curators, never released.
    Resource(
        Revision,
        key="id",
        basename="revisions",
        viewset="therapies.views.RevisionViewSet",
        private=True,
        released=False,
    ),
    # Derived from the history, not curated: never released nor granted.
    Resource(
        ChangeEntry,
        key="id",
        basename="changes",
        viewset="therapies.views.ChangeViewSet",
        released=False,
        curated=False,
    ),
)
