"""Importers of therapies data, registered in references.importers.registry."""
