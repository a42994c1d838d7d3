"""Format validators for the identifiers HER2db stores."""

from django.core.validators import RegexValidator

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
