from django.apps import AppConfig


class ReferencesConfig(AppConfig):
    name = "references"
    verbose_name = "References"

    def ready(self):
        from . import resources  # noqa: F401  (declares the app's resources)
