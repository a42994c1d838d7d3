import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from references.models import Citation, TimeStampedModel

validate_nct_id = RegexValidator(r"^NCT[0-9]{8}$", 'An NCT id is "NCT" and 8 digits.')
validate_chembl_id = RegexValidator(
    r"^CHEMBL[1-9][0-9]*$", 'A ChEMBL id looks like "CHEMBL1201585".'
)
validate_drugbank_id = RegexValidator(
    r"^DB[0-9]{5}$", 'A DrugBank id is "DB" and 5 digits, e.g. "DB00072".'
)
validate_ncit_id = RegexValidator(r"^C[0-9]{1,7}$", 'An NCIt code looks like "C1647".')
# UniProt's own accession pattern (uniprot.org/help/accession_numbers).
validate_uniprot = RegexValidator(
    r"^([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})$",
    'A UniProt accession looks like "P04626".',
)
validate_hgnc_id = RegexValidator(
    r"^HGNC:[1-9][0-9]*$", 'An HGNC id looks like "HGNC:3430".'
)
validate_gene_symbol = RegexValidator(
    r"^[A-Z0-9][A-Za-z0-9-]*$", 'An HGNC symbol looks like "ERBB2".'
)
# ClinicalTrials.gov gives dates as YYYY-MM or YYYY-MM-DD; we keep its precision.
validate_partial_date = RegexValidator(
    r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$",
    "Use YYYY, YYYY-MM or YYYY-MM-DD.",
)


class TargetManager(models.Manager):
    def get_by_natural_key(self, symbol):
        return self.get(symbol=symbol)


class Target(TimeStampedModel):
    """A gene or its protein product that agents act on or mechanisms involve."""

    symbol = models.CharField(
        "HGNC symbol", max_length=32, unique=True, validators=[validate_gene_symbol]
    )
    name = models.CharField(max_length=255, help_text="HGNC approved name.")
    aliases = models.CharField(
        max_length=255, blank=True, help_text='Comma-separated, e.g. "HER2, NEU".'
    )
    hgnc_id = models.CharField(
        "HGNC id", max_length=16, blank=True, validators=[validate_hgnc_id]
    )
    uniprot_id = models.CharField(
        "UniProt accession", max_length=10, blank=True, validators=[validate_uniprot]
    )
    history = HistoricalRecords()

    objects = TargetManager()

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["hgnc_id"],
                condition=~Q(hgnc_id=""),
                name="%(app_label)s_%(class)s_unique_hgnc_id",
                violation_error_message="Another target has this HGNC id.",
            ),
            models.UniqueConstraint(
                fields=["uniprot_id"],
                condition=~Q(uniprot_id=""),
                name="%(app_label)s_%(class)s_unique_uniprot_id",
                violation_error_message="Another target has this UniProt accession.",
            ),
            models.CheckConstraint(
                condition=Q(hgnc_id="") | Q(hgnc_id__startswith="HGNC:"),
                name="%(app_label)s_%(class)s_hgnc_id_form",
                violation_error_message='An HGNC id starts with "HGNC:".',
            ),
        ]

    def __str__(self):
        return self.symbol

    def natural_key(self):
        return (self.symbol,)

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]


class AgentQuerySet(models.QuerySet):
    def search(self, text: str):
        return self.filter(
            Q(name__icontains=text)
            | Q(abbreviation__icontains=text)
            | Q(aliases__alias__icontains=text)
        ).distinct()


class AgentManager(models.Manager.from_queryset(AgentQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Agent(TimeStampedModel):
    """A therapeutic agent, named by its international nonproprietary name."""

    class Modality(models.TextChoices):
        MONOCLONAL_ANTIBODY = "MONOCLONAL_ANTIBODY", "Monoclonal antibody"
        BISPECIFIC_ANTIBODY = "BISPECIFIC_ANTIBODY", "Bispecific antibody"
        ANTIBODY_DRUG_CONJUGATE = "ANTIBODY_DRUG_CONJUGATE", "Antibody-drug conjugate"
        TYROSINE_KINASE_INHIBITOR = (
            "TYROSINE_KINASE_INHIBITOR",
            "Tyrosine kinase inhibitor",
        )
        SMALL_MOLECULE = "SMALL_MOLECULE", "Other small molecule"
        ENDOCRINE = "ENDOCRINE", "Endocrine therapy"
        CHEMOTHERAPY = "CHEMOTHERAPY", "Chemotherapy"
        IMMUNOTHERAPY = "IMMUNOTHERAPY", "Immunotherapy"
        VACCINE = "VACCINE", "Vaccine"
        OTHER = "OTHER", "Other"

    class Status(models.TextChoices):
        APPROVED = "APPROVED", "Approved (see approvals for where and for what)"
        INVESTIGATIONAL = "INVESTIGATIONAL", "Investigational"
        DISCONTINUED = "DISCONTINUED", "Discontinued"

    name = models.CharField(
        max_length=200, unique=True, help_text="International nonproprietary name."
    )
    slug = models.SlugField(max_length=200, unique=True)
    abbreviation = models.CharField(max_length=40, blank=True, help_text='e.g. "T-DXd"')
    modality = models.CharField(max_length=32, choices=Modality)
    mechanism_of_action = models.TextField(blank=True)
    development_status = models.CharField(
        max_length=16, choices=Status, default=Status.INVESTIGATIONAL
    )
    chembl_id = models.CharField(
        "ChEMBL id", max_length=20, blank=True, validators=[validate_chembl_id]
    )
    drugbank_id = models.CharField(
        "DrugBank id", max_length=7, blank=True, validators=[validate_drugbank_id]
    )
    ncit_id = models.CharField(
        "NCIt code", max_length=8, blank=True, validators=[validate_ncit_id]
    )
    # Antibody-drug conjugates only.
    payload = models.CharField(max_length=200, blank=True)
    linker = models.CharField(max_length=200, blank=True)
    linker_cleavable = models.BooleanField(null=True, blank=True)
    drug_to_antibody_ratio = models.DecimalField(
        "drug-to-antibody ratio",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(20)],
    )
    targets = models.ManyToManyField(
        Target, through="therapies.AgentTarget", related_name="agents", blank=True
    )
    history = HistoricalRecords()

    objects = AgentManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["chembl_id"],
                condition=~Q(chembl_id=""),
                name="%(app_label)s_%(class)s_unique_chembl_id",
                violation_error_message="Another agent has this ChEMBL id.",
            ),
            models.UniqueConstraint(
                fields=["drugbank_id"],
                condition=~Q(drugbank_id=""),
                name="%(app_label)s_%(class)s_unique_drugbank_id",
                violation_error_message="Another agent has this DrugBank id.",
            ),
            models.CheckConstraint(
                condition=Q(drug_to_antibody_ratio__isnull=True)
                | Q(drug_to_antibody_ratio__gt=0, drug_to_antibody_ratio__lte=20),
                name="%(app_label)s_%(class)s_dar_range",
                violation_error_message="The drug-to-antibody ratio lies in (0, 20].",
            ),
            # Payload, linker and DAR describe conjugates and nothing else.
            models.CheckConstraint(
                condition=Q(modality="ANTIBODY_DRUG_CONJUGATE")
                | Q(
                    payload="",
                    linker="",
                    linker_cleavable__isnull=True,
                    drug_to_antibody_ratio__isnull=True,
                ),
                name="%(app_label)s_%(class)s_conjugate_fields_only_on_adcs",
                violation_error_message="Payload, linker and drug-to-antibody ratio "
                "apply only to antibody-drug conjugates.",
            ),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    @property
    def chembl_url(self) -> str:
        if not self.chembl_id:
            return ""
        return f"https://www.ebi.ac.uk/chembl/explore/compound/{self.chembl_id}"


class AgentAliasManager(models.Manager):
    def get_by_natural_key(self, slug, alias):
        return self.get(agent__slug=slug, alias=alias)


class AgentAlias(models.Model):
    """Another name of an agent: brand, code name or synonym."""

    class Kind(models.TextChoices):
        BRAND = "BRAND", "Brand name"
        CODE = "CODE", "Code name"
        SYNONYM = "SYNONYM", "Synonym"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.SYNONYM)
    history = HistoricalRecords()

    objects = AgentAliasManager()

    class Meta:
        ordering = ["agent", "alias"]
        verbose_name_plural = "agent aliases"
        constraints = [
            # An alias must resolve to one agent, whatever its case.
            models.UniqueConstraint(
                Lower("alias"),
                name="%(app_label)s_%(class)s_unique_alias_ci",
                violation_error_message="This alias already names an agent.",
            ),
        ]

    def __str__(self):
        return self.alias

    def natural_key(self):
        return (self.agent.slug, self.alias)

    natural_key.dependencies = ["therapies.agent"]


class AgentTargetManager(models.Manager):
    def get_by_natural_key(self, slug, symbol):
        return self.get(agent__slug=slug, target__symbol=symbol)


class AgentTarget(models.Model):
    """How an agent acts on a target: action, binding site, reversibility."""

    class Action(models.TextChoices):
        INHIBITOR = "INHIBITOR", "Inhibitor"
        ANTAGONIST = "ANTAGONIST", "Antagonist"
        BINDER = "BINDER", "Binder"
        DEGRADER = "DEGRADER", "Degrader"
        MODULATOR = "MODULATOR", "Modulator"
        OTHER = "OTHER", "Other"

    class Reversibility(models.TextChoices):
        REVERSIBLE = "REVERSIBLE", "Reversible"
        IRREVERSIBLE = "IRREVERSIBLE", "Irreversible"

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="agent_targets"
    )
    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, related_name="agent_targets"
    )
    action = models.CharField(max_length=12, choices=Action)
    binding_site = models.CharField(
        max_length=200, blank=True, help_text='e.g. "extracellular domain II"'
    )
    reversibility = models.CharField(max_length=12, choices=Reversibility, blank=True)
    history = HistoricalRecords()

    objects = AgentTargetManager()

    class Meta:
        ordering = ["agent", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "target"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This agent already has this target.",
            ),
        ]

    def __str__(self):
        return f"{self.agent} → {self.target} ({self.get_action_display().lower()})"

    def natural_key(self):
        return (self.agent.slug, self.target.symbol)

    natural_key.dependencies = ["therapies.agent", "therapies.target"]


class ApprovalManager(models.Manager):
    def get_by_natural_key(self, slug, agency, date, indication):
        return self.get(
            agent__slug=slug, agency=agency, date=date, indication=indication
        )


class Approval(TimeStampedModel):
    """A regulatory approval: who approved the agent, when, and for what."""

    class Agency(models.TextChoices):
        FDA = "FDA", "US FDA"
        EMA = "EMA", "EMA (European Commission)"
        NMPA = "NMPA", "China NMPA"
        PMDA = "PMDA", "Japan PMDA"
        MHRA = "MHRA", "UK MHRA"
        OTHER = "OTHER", "Other"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="approvals")
    agency = models.CharField(max_length=8, choices=Agency)
    date = models.DateField()
    indication = models.CharField(max_length=500)
    her2_positive_breast = models.BooleanField(
        "HER2-positive breast cancer",
        default=False,
        help_text="Is this indication HER2-positive breast cancer?",
    )
    accelerated = models.BooleanField(default=False)
    reference = models.CharField(
        max_length=120, blank=True, help_text='Application or label, e.g. "BLA 125427".'
    )
    citation = models.ForeignKey(
        Citation,
        on_delete=models.PROTECT,
        related_name="approvals",
        null=True,
        blank=True,
    )
    history = HistoricalRecords()

    objects = ApprovalManager()

    class Meta:
        ordering = ["agent", "date", "agency", "indication"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "agency", "date", "indication"],
                name="%(app_label)s_%(class)s_unique_approval",
                violation_error_message="This approval is already recorded.",
            ),
            models.CheckConstraint(
                condition=~Q(indication=""),
                name="%(app_label)s_%(class)s_indication_required",
                violation_error_message="An approval says what it is for.",
            ),
        ]

    def __str__(self):
        return f"{self.agent} · {self.agency} {self.date:%Y-%m-%d}"

    def natural_key(self):
        return (self.agent.slug, self.agency, self.date.isoformat(), self.indication)

    natural_key.dependencies = ["therapies.agent"]


class MechanismGeneManager(models.Manager):
    def get_by_natural_key(self, mechanism_slug, symbol):
        return self.get(mechanism__slug=mechanism_slug, target__symbol=symbol)


class MechanismGene(models.Model):
    """A gene involved in a mechanism."""

    mechanism = models.ForeignKey(
        "therapies.Mechanism", on_delete=models.CASCADE, related_name="mechanism_genes"
    )
    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, related_name="mechanism_genes"
    )

    objects = MechanismGeneManager()

    class Meta:
        ordering = ["mechanism", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["mechanism", "target"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This gene is already listed.",
            ),
        ]

    def __str__(self):
        return f"{self.mechanism} · {self.target}"

    def natural_key(self):
        return (self.mechanism.slug, self.target.symbol)

    natural_key.dependencies = ["therapies.mechanism", "therapies.target"]


class MechanismQuerySet(models.QuerySet):
    def subtree_ids(self, roots) -> set[int]:
        """Ids of the given mechanisms and all their descendants (one query a level)."""
        ids = {m.pk for m in roots}
        frontier = set(ids)
        while frontier:
            frontier = (
                set(
                    Mechanism.objects.filter(parent__in=frontier).values_list(
                        "pk", flat=True
                    )
                )
                - ids
            )
            ids |= frontier
        return ids


class MechanismManager(models.Manager.from_queryset(MechanismQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Mechanism(TimeStampedModel):
    """A resistance mechanism, placed in a tree under the review's categories."""

    class Category(models.TextChoices):
        HER_RECEPTOR = "HER_RECEPTOR", "HER receptor layer"
        DOWNSTREAM = "DOWNSTREAM", "Downstream signalling"
        COMPENSATORY = "COMPENSATORY", "Compensatory pathways"
        CELL_CYCLE = "CELL_CYCLE", "Cell cycle"
        METABOLISM = "METABOLISM", "Metabolism"
        MICROENVIRONMENT = "MICROENVIRONMENT", "Tumour microenvironment and immunity"
        ADC_SPECIFIC = "ADC_SPECIFIC", "ADC-specific"

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    category = models.CharField(max_length=20, choices=Category)
    description = models.TextField(blank=True)
    genes = models.ManyToManyField(
        Target, through=MechanismGene, related_name="mechanisms", blank=True
    )
    history = HistoricalRecords(m2m_fields=[genes])

    objects = MechanismManager()

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="%(app_label)s_%(class)s_not_own_parent",
                violation_error_message="A mechanism cannot be its own parent.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        ancestor = self.parent
        seen = set()
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "This would make the tree a cycle."})
            if ancestor.pk in seen:
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if self.parent and self.parent.category != self.category:
            raise ValidationError(
                {
                    "category": "A mechanism has its parent's category "
                    f"({self.parent.get_category_display()})."
                }
            )

    def natural_key(self):
        return (self.slug,)

    def ancestors(self) -> list["Mechanism"]:
        chain, node = [], self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain[::-1]


class TrialPublicationManager(models.Manager):
    def get_by_natural_key(self, nct_id, citekey):
        return self.get(trial__nct_id=nct_id, citation__citekey=citekey)


class TrialPublication(models.Model):
    """A citation reporting a trial."""

    trial = models.ForeignKey(
        "therapies.Trial", on_delete=models.CASCADE, related_name="trial_publications"
    )
    citation = models.ForeignKey(
        Citation, on_delete=models.PROTECT, related_name="trial_publications"
    )

    objects = TrialPublicationManager()

    class Meta:
        ordering = ["trial", "citation"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "citation"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This publication is already listed.",
            ),
        ]

    def __str__(self):
        return f"{self.trial} · {self.citation}"

    def natural_key(self):
        return (self.trial.nct_id, self.citation.citekey)

    natural_key.dependencies = ["therapies.trial", "references.citation"]


class TrialQuerySet(models.QuerySet):
    def for_agent(self, agent):
        return self.filter(arms__agents=agent).distinct()


class TrialManager(models.Manager.from_queryset(TrialQuerySet)):
    def get_by_natural_key(self, nct_id):
        return self.get(nct_id=nct_id)


class Trial(TimeStampedModel):
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

    nct_id = models.CharField(
        "NCT id", max_length=11, unique=True, validators=[validate_nct_id]
    )
    acronym = models.CharField(max_length=60, blank=True)
    title = models.CharField(max_length=500, help_text="Brief title.")
    official_title = models.TextField(blank=True)
    phase = models.CharField(max_length=14, choices=Phase, blank=True)
    status = models.CharField(max_length=24, choices=Status, blank=True)
    setting = models.CharField(max_length=12, choices=Setting, blank=True)
    enrollment = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.CharField(
        max_length=10, blank=True, validators=[validate_partial_date]
    )
    completion_date = models.CharField(
        max_length=10, blank=True, validators=[validate_partial_date]
    )
    sponsor = models.CharField(max_length=200, blank=True)
    conditions = models.CharField(max_length=500, blank=True)
    primary_endpoint = models.TextField(blank=True)
    result_summary = models.TextField(blank=True)
    publications = models.ManyToManyField(
        Citation,
        through=TrialPublication,
        related_name="trials",
        blank=True,
    )
    history = HistoricalRecords(m2m_fields=[publications])

    objects = TrialManager()

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
        if self.start_date and self.completion_date:
            n = min(len(self.start_date), len(self.completion_date))
            if self.completion_date[:n] < self.start_date[:n]:
                raise ValidationError(
                    {"completion_date": "The completion date precedes the start date."}
                )

    def natural_key(self):
        return (self.nct_id,)

    @property
    def registry_url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"


class TrialArmAgentManager(models.Manager):
    def get_by_natural_key(self, nct_id, label, slug):
        return self.get(arm__trial__nct_id=nct_id, arm__label=label, agent__slug=slug)


class TrialArmAgent(models.Model):
    """An agent given in a trial arm."""

    arm = models.ForeignKey(
        "therapies.TrialArm", on_delete=models.CASCADE, related_name="arm_agents"
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="arm_agents"
    )

    objects = TrialArmAgentManager()

    class Meta:
        ordering = ["arm", "agent"]
        constraints = [
            models.UniqueConstraint(
                fields=["arm", "agent"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This agent is already in this arm.",
            ),
        ]

    def __str__(self):
        return f"{self.arm} · {self.agent}"

    def natural_key(self):
        return (*self.arm.natural_key(), self.agent.slug)

    natural_key.dependencies = ["therapies.trialarm", "therapies.agent"]


class TrialArmManager(models.Manager):
    def get_by_natural_key(self, nct_id, label):
        return self.get(trial__nct_id=nct_id, label=label)


class TrialArm(models.Model):
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
    description = models.TextField(blank=True)
    physicians_choice = models.BooleanField(
        "physician's choice",
        default=False,
        help_text="The treatment is chosen per patient; the agents listed are the "
        "options (possibly none when the registry does not fix them).",
    )
    agents = models.ManyToManyField(
        Agent, through=TrialArmAgent, related_name="trial_arms", blank=True
    )
    history = HistoricalRecords(m2m_fields=[agents])

    objects = TrialArmManager()

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

    def natural_key(self):
        return (self.trial.nct_id, self.label)

    natural_key.dependencies = ["therapies.trial"]


class EvidenceAgentManager(models.Manager):
    def get_by_natural_key(self, uid, slug):
        return self.get(evidence__uid=uid, agent__slug=slug)


class EvidenceAgent(models.Model):
    """An agent that a claim is about (several make a combination)."""

    evidence = models.ForeignKey(
        "therapies.Evidence", on_delete=models.CASCADE, related_name="evidence_agents"
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="evidence_agents"
    )

    objects = EvidenceAgentManager()

    class Meta:
        ordering = ["evidence", "agent"]
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "agent"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This agent is already in the claim.",
            ),
        ]

    def __str__(self):
        return f"{self.evidence_id} · {self.agent}"

    def natural_key(self):
        return (str(self.evidence.uid), self.agent.slug)

    natural_key.dependencies = ["therapies.evidence", "therapies.agent"]


class EvidenceTrialManager(models.Manager):
    def get_by_natural_key(self, uid, nct_id):
        return self.get(evidence__uid=uid, trial__nct_id=nct_id)


class EvidenceTrial(models.Model):
    """A trial whose data a claim rests on."""

    evidence = models.ForeignKey(
        "therapies.Evidence", on_delete=models.CASCADE, related_name="evidence_trials"
    )
    trial = models.ForeignKey(
        "therapies.Trial", on_delete=models.PROTECT, related_name="evidence_trials"
    )

    objects = EvidenceTrialManager()

    class Meta:
        ordering = ["evidence", "trial"]
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "trial"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This trial is already linked.",
            ),
        ]

    def __str__(self):
        return f"{self.evidence_id} · {self.trial}"

    def natural_key(self):
        return (str(self.evidence.uid), self.trial.nct_id)

    natural_key.dependencies = ["therapies.evidence", "therapies.trial"]


class EvidenceQuerySet(models.QuerySet):
    def accepted(self):
        return self.filter(status=Evidence.Status.ACCEPTED)

    def citing_retracted(self):
        """Claims citing a retracted paper that no curator has reviewed since."""
        return self.filter(
            evidence_citations__citation__retracted=True,
            evidence_citations__retraction_reviewed=False,
        ).distinct()

    def visible_to(self, user):
        """Everything for those who may see unpublished claims, else accepted only."""
        if user.is_authenticated and user.has_perm(
            "therapies.view_unpublished_evidence"
        ):
            return self
        return self.accepted()


class EvidenceManager(models.Manager.from_queryset(EvidenceQuerySet)):
    def get_by_natural_key(self, uid):
        return self.get(uid=uid)


class Evidence(TimeStampedModel):
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

    # CIViC's evidence levels.
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
    effect = models.CharField(max_length=24, choices=Effect)
    direction = models.CharField(
        max_length=16, choices=Direction, default=Direction.SUPPORTS
    )
    level = models.CharField(max_length=1, choices=Level)
    origin = models.CharField(max_length=10, choices=Origin, default=Origin.UNKNOWN)
    model_system = models.CharField(max_length=16, choices=ModelSystem)
    statement = models.TextField(help_text="The claim in the curator's own words.")
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
    status_reason = models.TextField(
        blank=True,
        editable=False,
        help_text="Why it was rejected, sent back or retired.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(m2m_fields=[agents, trials])

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

    def natural_key(self):
        return (str(self.uid),)

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
            and not (action == "accept" and self.submitted_by_id == user.pk)
        ]

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
        if action == "accept" and self.submitted_by_id == user.pk:
            raise PermissionDenied("Nobody accepts their own submission.")
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

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.ACCEPTED


class EvidenceCitationManager(models.Manager):
    def get_by_natural_key(self, uid, citekey):
        return self.get(evidence__uid=uid, citation__citekey=citekey)


class EvidenceCitation(models.Model):
    """A citation supporting a claim, with the quote and where it stands."""

    evidence = models.ForeignKey(
        "therapies.Evidence",
        on_delete=models.CASCADE,
        related_name="evidence_citations",
    )
    citation = models.ForeignKey(
        Citation, on_delete=models.PROTECT, related_name="evidence_citations"
    )
    quote = models.TextField(blank=True, help_text="The supporting words, verbatim.")
    location = models.CharField(
        max_length=120, blank=True, help_text='Where the quote stands, e.g. "Fig. 2".'
    )
    retraction_reviewed = models.BooleanField(
        default=False,
        help_text="A curator has reviewed this claim since the citation was "
        "retracted; clears the retraction flag.",
    )
    history = HistoricalRecords()

    objects = EvidenceCitationManager()

    class Meta:
        ordering = ["evidence", "citation"]
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "citation"],
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="This citation is already linked.",
            ),
        ]

    def __str__(self):
        return f"{self.citation}" + (f" ({self.location})" if self.location else "")

    def natural_key(self):
        return (str(self.evidence.uid), self.citation.citekey)

    natural_key.dependencies = ["therapies.evidence", "references.citation"]


class ChangeEntry(models.Model):
    """One change to public data, for programs that keep a copy in sync."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted or withdrawn"

    kind = models.CharField(max_length=20, help_text='The resource, e.g. "agent".')
    identifier = models.CharField(max_length=255)
    action = models.CharField(max_length=8, choices=Action)
    changed_at = models.DateTimeField()
    fields = models.JSONField(
        default=list, help_text="Names of the fields that changed."
    )

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name_plural = "change entries"
        indexes = [
            # /api/v1/changes/?since=... and ?kind=...&since=...
            models.Index(fields=["changed_at", "id"], name="therapies_change_since"),
            models.Index(fields=["kind", "changed_at"], name="therapies_change_kind"),
        ]

    def __str__(self):
        when = f"{self.changed_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.action} {self.kind} {self.identifier}"
