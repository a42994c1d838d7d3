from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate, pre_migrate


class TherapiesConfig(AppConfig):
    name = "therapies"
    verbose_name = "Therapies and resistance"

    def ready(self):
        from simple_history.signals import post_create_historical_record

        from her2db import data_version
        from her2db.search_index import drop_search_triggers, sync_search_indexes
        from references.importers import registry as importers
        from references.signals import bulk_history_created

        from . import resources  # noqa: F401  (declares the app's resources)
        from .changes import record_change, record_changes
        from .groups import sync_groups
        from .importers.ctgov import CtgovImporter
        from .models import Evidence
        from .models.review import guard_links

        importers.register(CtgovImporter)

        # After migrate, when every curated model's permissions exist.
        post_migrate.connect(sync_groups, sender=self, dispatch_uid="her2db_groups")
        # The search indexes follow the registry's declarations.
        # Built anew after each migrate that applies anything.
        pre_migrate.connect(
            drop_search_triggers, sender=self, dispatch_uid="her2db_search_triggers"
        )
        post_migrate.connect(
            sync_search_indexes, sender=self, dispatch_uid="her2db_search_indexes"
        )
        # Every write to readable data advances the data version.
        post_migrate.connect(
            data_version.install, sender=self, dispatch_uid="her2db_data_version"
        )
        # Agents and trials of an accepted claim change only through a revision.
        for through in (Evidence.agents.through, Evidence.trials.through):
            m2m_changed.connect(
                guard_links, sender=through, dispatch_uid=f"her2db_{through}"
            )
        # Every recorded history row of public data also feeds the change feed.
        post_create_historical_record.connect(
            record_change, dispatch_uid="her2db_change_feed"
        )
        bulk_history_created.connect(
            record_changes, dispatch_uid="her2db_change_feed_bulk"
        )
