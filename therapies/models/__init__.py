"""Therapies app models, one module per part of the domain."""

from .agents import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    Target,
)
from .evidence import (
    Evidence,
    EvidenceAgent,
    EvidenceCitation,
    EvidenceTrial,
)
from .feed import ChangeEntry
from .mechanisms import Mechanism, MechanismGene
from .outcomes import Outcome, OutcomeArmResult
from .review import Revision
from .trials import Trial, TrialArm, TrialArmAgent, TrialPublication
from .validators import (
    validate_chembl_id,
    validate_drugbank_id,
    validate_gene_symbol,
    validate_hgnc_id,
    validate_ncit_id,
    validate_nct_id,
    validate_partial_date,
    validate_uniprot,
)

__all__ = [
    "Agent",
    "AgentAlias",
    "AgentTarget",
    "Approval",
    "ChangeEntry",
    "Evidence",
    "EvidenceAgent",
    "EvidenceCitation",
    "EvidenceTrial",
    "Mechanism",
    "MechanismGene",
    "Outcome",
    "OutcomeArmResult",
    "Revision",
    "Target",
    "Trial",
    "TrialArm",
    "TrialArmAgent",
    "TrialPublication",
    "validate_chembl_id",
    "validate_drugbank_id",
    "validate_gene_symbol",
    "validate_hgnc_id",
    "validate_nct_id",
    "validate_ncit_id",
    "validate_partial_date",
    "validate_uniprot",
]
