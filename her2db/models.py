"""Model bases every curated model shares: timestamps and natural keys."""

import datetime
import functools
import uuid

import simple_history.manager
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .operations import current_id


class BoundedTextField(models.TextField):
    """Free text with a documented maximum length.

    A plain TextField's max_length only sizes the admin's textarea; here it
    is also a validator, so model validation (importers, the admin) and the
    API (DRF copies it, and the schema publishes it as maxLength) refuse
    longer text. The column stays unbounded text.
    """

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))


# Maximum lengths, chosen from the data: the longest shipped statement is
# about 300 characters, the longest trial result summary about 630, and
# PubMed abstracts run to a few thousand.
SHORT_TEXT = 2_000  # reasons, notes
TEXT = 5_000  # a claim's statement, a quote, a mechanism of action
LONG_TEXT = 10_000  # descriptions and summaries
ABSTRACT = 50_000


class TimeStampedModel(models.Model):
    """Abstract base adding creation and modification times."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class HistoricalRecord(models.Model):
    """Base of every history table: which operation wrote the row."""

    # Empty on rows written before operations had ids.
    operation = models.UUIDField(
        default=current_id,
        null=True,
        editable=False,
        db_index=True,  # the rows one operation wrote (change feed, restore)
        help_text="The request, import or command that wrote this row.",
    )

    class Meta:
        abstract = True


class HistoryManager(simple_history.manager.HistoryManager):
    """simple-history's manager, its class built once per queryset class.

    `model.history` builds a new manager class on every access (and so on
    every history row written), which inspects the whole queryset class each
    time; caching the class keeps saves from paying for it.
    """

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


def curated_history(**options):
    """HistoricalRecords for a curated model, each row tagged with its operation."""
    return HistoricalRecords(
        bases=[HistoricalRecord], history_manager=HistoryManager, **options
    )


class NaturalKeyManager(models.Manager):
    """Finds a row by its natural key, as fixtures and releases name it."""

    def get_by_natural_key(self, *key):
        fields = self.model.natural_key_fields
        return self.get(**dict(zip(fields, key, strict=True)))


class NaturalKeyModel(models.Model):
    """Abstract base for rows with a natural key, declared once as lookups.

    `natural_key_fields` are query lookups from the row ("agent__slug"), so
    the same declaration both names a row and finds it again. Django's
    serializers order models by their foreign keys, so no `dependencies`
    need listing.
    """

    natural_key_fields: tuple[str, ...] = ()
    objects = NaturalKeyManager()

    class Meta:
        abstract = True

    def natural_key(self) -> tuple:
        key = []
        for lookup in self.natural_key_fields:
            value = self
            for attribute in lookup.split("__"):
                value = getattr(value, attribute)
            if isinstance(value, uuid.UUID):
                value = str(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            key.append(value)
        return tuple(key)


def unique_when_set(field: str, message: str) -> models.UniqueConstraint:
    """An identifier that names one row when given, though many rows have none."""
    return models.UniqueConstraint(
        fields=[field],
        condition=~Q(**{field: ""}),
        name=f"%(app_label)s_%(class)s_unique_{field}",
        violation_error_message=message,
    )


def unique_pair(first: str, second: str, message: str) -> models.UniqueConstraint:
    """A link between two records made at most once."""
    return models.UniqueConstraint(
        fields=[first, second],
        name="%(app_label)s_%(class)s_unique_pair",
        violation_error_message=message,
    )


def user_field(**options) -> models.ForeignKey:
    """Who did something to a record: kept, as empty, if the account goes."""
    options = {"null": True, "blank": True, "editable": False} | options
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", **options
    )
