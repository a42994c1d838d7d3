"""Targets, agents, how agents act on targets, and their approvals."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from her2db.models import (
    TEXT,
    BoundedTextField,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
    unique_pair,
    unique_when_set,
)
from references.models import Citation

from .validators import (
    validate_chembl_id,
    validate_drugbank_id,
    validate_gene_symbol,
    validate_hgnc_id,
    validate_ncit_id,
    validate_uniprot,
)


class Target(TimeStampedModel, NaturalKeyModel):
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
    history = curated_history()

    natural_key_fields = ("symbol",)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            unique_when_set("hgnc_id", "Another target has this HGNC id."),
            unique_when_set("uniprot_id", "Another target has this UniProt accession."),
            models.CheckConstraint(
                condition=Q(hgnc_id="") | Q(hgnc_id__startswith="HGNC:"),
                name="%(app_label)s_%(class)s_hgnc_id_form",
                violation_error_message='An HGNC id starts with "HGNC:".',
            ),
        ]

    def __str__(self):
        return self.symbol


class Agent(TimeStampedModel, NaturalKeyModel):
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
    mechanism_of_action = BoundedTextField(blank=True, max_length=TEXT)
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
    history = curated_history()

    natural_key_fields = ("slug",)

    class Meta:
        ordering = ["name"]
        constraints = [
            unique_when_set("chembl_id", "Another agent has this ChEMBL id."),
            unique_when_set("drugbank_id", "Another agent has this DrugBank id."),
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

    @property
    def chembl_url(self) -> str:
        if not self.chembl_id:
            return ""
        return f"https://www.ebi.ac.uk/chembl/explore/compound/{self.chembl_id}"


class AgentAlias(NaturalKeyModel):
    """Another name of an agent: brand, code name or synonym."""

    class Kind(models.TextChoices):
        BRAND = "BRAND", "Brand name"
        CODE = "CODE", "Code name"
        SYNONYM = "SYNONYM", "Synonym"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.SYNONYM)
    history = curated_history()

    natural_key_fields = ("agent__slug", "alias")

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


class AgentTarget(NaturalKeyModel):
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
    history = curated_history()

    natural_key_fields = ("agent__slug", "target__symbol")

    class Meta:
        ordering = ["agent", "target"]
        constraints = [
            unique_pair("agent", "target", "This agent already has this target."),
        ]

    def __str__(self):
        return f"{self.agent} → {self.target} ({self.get_action_display().lower()})"


MONTH_STARTS_ON_DAY_1 = (
    "A date known only to the month is the first of that month "
    "(1996-05-01 for May 1996)."
)
YEAR_STARTS_ON_JANUARY_1 = (
    "A date known only to the year is January 1 of that year (1959-01-01 for 1959)."
)


def date_precision_problems(date, precision: str) -> dict:
    """A date known to the month or year is the first day of that month or year
    (the database's constraints in Python, by field, for forms and the API)."""
    if date is None:
        return {}
    if precision == Approval.Precision.MONTH and date.day != 1:
        return {"date": [MONTH_STARTS_ON_DAY_1]}
    if precision == Approval.Precision.YEAR and (date.month, date.day) != (1, 1):
        return {"date": [YEAR_STARTS_ON_JANUARY_1]}
    return {}


class Approval(TimeStampedModel, NaturalKeyModel):
    """A regulatory approval: who approved the agent, when, and for what."""

    class Precision(models.TextChoices):
        DAY = "DAY", "Day"
        MONTH = "MONTH", "Month"
        YEAR = "YEAR", "Year"

    class Agency(models.TextChoices):
        FDA = "FDA", "US FDA"
        EMA = "EMA", "EMA (European Commission)"
        NMPA = "NMPA", "China NMPA"
        PMDA = "PMDA", "Japan PMDA"
        MHRA = "MHRA", "UK MHRA"
        OTHER = "OTHER", "Other"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="approvals")
    agency = models.CharField(max_length=8, choices=Agency)
    date = models.DateField(
        help_text="The day of the approval; when a source gives only its month "
        "or year, the first day of that month or year."
    )
    date_precision = models.CharField(
        "date known to the",
        max_length=5,
        choices=Precision,
        default=Precision.DAY,
        help_text="Whether the date is exact to the day, or known only to the "
        "month (1996-05-01 standing for May 1996) or the year (1959-01-01 "
        "standing for 1959).",
    )
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
        help_text="The label, or the paper of the trial the approval rests on.",
    )
    trial = models.ForeignKey(
        "therapies.Trial",
        on_delete=models.PROTECT,
        related_name="approvals",
        null=True,
        blank=True,
        help_text="The trial the approval rests on.",
    )
    history = curated_history()

    # What an approval says, in the order forms, lists and the API show it.
    COLUMNS = (
        "agency",
        "date",
        "date_precision",
        "indication",
        "her2_positive_breast",
        "accelerated",
        "reference",
    )

    natural_key_fields = ("agent__slug", "agency", "date", "indication")

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
            # A date less precise than a day is stored as its period's first
            # day, so that ordering and ?date filters treat it as one value.
            models.CheckConstraint(
                condition=~Q(date_precision="MONTH") | Q(date__day=1),
                name="%(app_label)s_%(class)s_month_precision_day_1",
                violation_error_message=MONTH_STARTS_ON_DAY_1,
            ),
            models.CheckConstraint(
                condition=~Q(date_precision="YEAR") | Q(date__month=1, date__day=1),
                name="%(app_label)s_%(class)s_year_precision_january_1",
                violation_error_message=YEAR_STARTS_ON_JANUARY_1,
            ),
        ]

    def __str__(self):
        return f"{self.agent} · {self.agency} {self.date_text}"

    def clean(self):
        errors = date_precision_problems(self.date, self.date_precision)
        if errors:
            raise ValidationError(errors)

    @property
    def date_text(self) -> str:
        """The date as far as it is known: 2018-08-15, 1994-12 or 1959."""
        return self.date.strftime(DATE_FORMATS[self.date_precision])


DATE_FORMATS = {
    Approval.Precision.DAY: "%Y-%m-%d",
    Approval.Precision.MONTH: "%Y-%m",
    Approval.Precision.YEAR: "%Y",
}
