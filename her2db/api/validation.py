"""Model rules and database constraints, reported as DRF's 400s.

DRF never calls `full_clean()`; these run it and name the field each broken
rule is about, whether found before the write or by the database during it.
"""

import re
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import serializers
from rest_framework.settings import api_settings


def constraint_fields(model) -> dict[str, str]:
    """Each constraint's violation message, with the one field it is about."""
    found = {}
    for constraint in model._meta.constraints:
        fields = set(getattr(constraint, "fields", ()) or ())
        for expression in getattr(constraint, "expressions", ()) or ():
            fields |= {
                ref.name
                for ref in getattr(expression, "get_source_expressions", list)()
                if hasattr(ref, "name")
            }
        condition = getattr(constraint, "condition", None)
        if condition is not None and not fields:
            fields = set(condition.referenced_base_fields)
        if len(fields) == 1:
            found[str(constraint.get_violation_error_message())] = fields.pop()
    return found


def drf_errors(
    error: DjangoValidationError, field_names: dict | None = None, model=None
) -> dict:
    """A Django ValidationError as DRF's {field: [messages]}, in API field names.

    A constraint about a single field is reported under that field.
    """
    field_names = field_names or {}
    by_message = constraint_fields(model) if model is not None else {}
    if not hasattr(error, "error_dict"):
        error = DjangoValidationError({NON_FIELD_ERRORS: error.messages})
    result = {}
    for field, errors in error.message_dict.items():
        for message in errors:
            about = (
                by_message.get(message, field) if field == NON_FIELD_ERRORS else field
            )
            key = (
                api_settings.NON_FIELD_ERRORS_KEY
                if about == NON_FIELD_ERRORS
                else field_names.get(about, about)
            )
            result.setdefault(key, []).append(message)
    return result


def full_clean(instance, exclude: Iterable[str] = (), field_names=None) -> None:
    """Run every model rule and constraint check, raising a DRF 400 on failure."""
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            drf_errors(error, field_names, type(instance))
        ) from None


def constraint_errors(error: IntegrityError) -> dict:
    """Name the rule a write broke, in the words of the model's constraint.

    PostgreSQL names the constraint, but a field's own `unique=True` index
    has a name Django chose ("therapies_target_symbol_key"), so its table and
    columns are read from the error's details; SQLite names a CHECK
    constraint, but for a UNIQUE one only the columns.
    """
    from django.apps import apps

    text = str(error)
    rules = []  # (name, columns, message, field) of every constraint
    for model in apps.get_models():
        about = constraint_fields(model)
        for constraint in model._meta.constraints:
            name = constraint.name % {
                "app_label": model._meta.app_label.lower(),
                "class": model.__name__.lower(),
            }
            message = str(constraint.get_violation_error_message())
            columns = {
                f"{model._meta.db_table}.{model._meta.get_field(f).column}"
                for f in getattr(constraint, "fields", ()) or ()
            }
            rules.append((name, columns, message, about.get(message)))
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                message = (
                    f"Another {model._meta.verbose_name} has this {field.verbose_name}."
                )
                column = f"{model._meta.db_table}.{field.column}"
                rules.append((None, {column}, message, field.name))
    unique = re.search(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)", text)
    columns = set(unique.group(1).split(", ")) if unique else None
    if columns is None:
        columns = pg_unique_columns(error)
    for name, rule_columns, message, field in sorted(
        rules, key=lambda rule: -len(rule[0] or "")
    ):
        if (name and name in text) or (columns and rule_columns == columns):
            key = field or api_settings.NON_FIELD_ERRORS_KEY
            return {key: [message]}
    return {
        api_settings.NON_FIELD_ERRORS_KEY: [
            "This change conflicts with data already stored "
            "(a duplicate or a broken rule); nothing was saved."
        ]
    }


def pg_unique_columns(error: IntegrityError) -> set[str] | None:
    """The columns ("table.column") of the unique index PostgreSQL reports."""
    diag = getattr(error.__cause__, "diag", None)
    table = getattr(diag, "table_name", None)
    if not table:
        return None
    key = re.match(r"Key \(([\w, ]+)\)=", getattr(diag, "message_detail", "") or "")
    if key is None:
        return None
    return {f"{table}.{column.strip()}" for column in key.group(1).split(",")}
