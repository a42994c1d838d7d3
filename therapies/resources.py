"""The therapies app's resources: targets, agents, mechanisms, trials, evidence.

Declared in release order: each model after the models it points at.
"""

from her2db.registry import Resource, registry

from . import models

registry.register(
    Resource(
        models.Target,
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
        models.Agent,
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
        search_related=((models.AgentAlias, "agent", ("alias",)),),
    ),
    Resource(models.AgentAlias, owner="agent", feed_field="aliases"),
    Resource(models.AgentTarget, owner="agent", feed_field="targets"),
    Resource(models.Approval, owner="agent", feed_field="approvals"),
    Resource(
        models.Mechanism,
        key="slug",
        basename="mechanisms",
        viewset="therapies.views.MechanismViewSet",
        kind="mechanism",
        search=(("A", ("name", "slug")), ("C", ("description",))),
    ),
    # Genes are kept in the mechanism's own history (m2m_fields).
    Resource(models.MechanismGene, owner="mechanism"),
    Resource(
        models.Trial,
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
    Resource(models.TrialArm, owner="trial", feed_field="arms"),
    Resource(models.TrialArmAgent, owner="arm.trial"),
    Resource(models.TrialPublication, owner="trial"),
    # A trial's reported results. Public as their trial is (every trial is,
    # as its arms are); no review of their own. A record with its own key and
    # kind, so the change feed names the outcome that changed.
    Resource(
        models.Outcome,
        key="uid",
        basename="outcomes",
        viewset="therapies.views.OutcomeViewSet",
        kind="outcome",
        search=(("A", ("event", "population")), ("C", ("locator", "notes"))),
    ),
    Resource(models.OutcomeArmResult, owner="outcome", feed_field="arms"),
    Resource(
        models.Evidence,
        key="uid",
        basename="evidence",
        viewset="therapies.views.EvidenceViewSet",
        lookup="id",
        kind="evidence",
        # Readers without the unpublished-evidence permission see accepted
        # claims only; a claim's own rows follow its status.
        public={"status": models.Evidence.Status.ACCEPTED},
        search=(("A", ("statement",)),),
    ),
    Resource(models.EvidenceAgent, owner="evidence"),
    Resource(models.EvidenceTrial, owner="evidence"),
    Resource(models.EvidenceCitation, owner="evidence", feed_field="citations"),
    # Proposed changes to accepted claims: seen by curators, never released.
    Resource(
        models.Revision,
        key="id",
        basename="revisions",
        viewset="therapies.views.RevisionViewSet",
        private=True,
        released=False,
    ),
    # Derived from the history, not curated: never released nor granted.
    Resource(
        models.ChangeEntry,
        key="id",
        basename="changes",
        viewset="therapies.views.ChangeViewSet",
        released=False,
        curated=False,
    ),
)
