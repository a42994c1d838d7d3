"""Importers: PubMed XML and bibliographic files here, ClinicalTrials.gov in
``therapies.importers``; all of them in ``registry``. See ``base``."""
