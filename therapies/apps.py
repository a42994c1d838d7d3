from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TherapiesConfig(AppConfig):
    name = "therapies"
    verbose_name = "Therapies and resistance"

    def ready(self):
        from .groups import sync_groups

        # After migrate, when every curated model's permissions exist.
        post_migrate.connect(sync_groups, sender=self, dispatch_uid="her2db_groups")
