from django.apps import AppConfig


class ReferencesConfig(AppConfig):
    name = "references"
    verbose_name = "References"

    def ready(self):
        from . import resources  # noqa: F401  (declares the app's resources)
        from .importers import registry
        from .importers.citations import CitationsImporter
        from .importers.pubmed import PubMedImporter

        registry.register(PubMedImporter, CitationsImporter)
