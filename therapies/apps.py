from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TherapiesConfig(AppConfig):
    name = "therapies"
    verbose_name = "Therapies and resistance"

    def ready(self):
        from simple_history.signals import post_create_historical_record

        from references.importers import registry
        from references.signals import bulk_history_created

        from .changes import record_change, record_changes
        from .groups import sync_groups
        from .importers.ctgov import CtgovImporter

        registry.register(CtgovImporter)

        # After migrate, when every curated model's permissions exist.
        post_migrate.connect(sync_groups, sender=self, dispatch_uid="her2db_groups")
        # Every recorded history row of public data also feeds the change feed.
        post_create_historical_record.connect(
            record_change, dispatch_uid="her2db_change_feed"
        )
        bulk_history_created.connect(
            record_changes, dispatch_uid="her2db_change_feed_bulk"
        )
