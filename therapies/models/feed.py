"""The change feed of public data."""

from django.db import models

from her2db.operations import current_id


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
    # One entry per record per operation: later rows of it add their fields.
    operation = models.UUIDField(default=current_id, null=True, editable=False)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name_plural = "change entries"
        indexes = [
            # /api/v1/changes/?since=... and ?kind=...&since=...
            models.Index(fields=["changed_at", "id"], name="therapies_change_since"),
            models.Index(fields=["kind", "changed_at"], name="therapies_change_kind"),
            # The entry a record already has in this operation (record_change).
            models.Index(
                fields=["operation", "kind", "identifier"], name="therapies_change_op"
            ),
        ]

    def __str__(self):
        when = f"{self.changed_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.action} {self.kind} {self.identifier}"
