"""The evidence list's filters: a curator's work lists, and autocomplete pickers
for the agent, mechanism (with everything under it), trial, citation and target
a claim is about."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Q

from references.models import Citation

from ..models import Agent, Evidence, Mechanism, Target, Trial
from ..workbench import CLAIM_LISTS, REVISION_LISTS


class WorkFilter(admin.SimpleListFilter):
    """The signed-in user's work lists, as the admin's home page counts them."""

    title = "your work"
    parameter_name = "work"
    lists = CLAIM_LISTS

    def lookups(self, request, model_admin):
        return [
            (name, label)
            for name, (label, _, perm) in self.lists.items()
            if request.user.has_perm(perm)
        ]

    def queryset(self, request, queryset):
        name = self.value()
        if name is None:
            return queryset
        if name not in self.lists:
            raise IncorrectLookupParameters(f"No work list {name!r}.")
        return queryset.filter(self.lists[name][1](request.user))


class RevisionWorkFilter(WorkFilter):
    lists = REVISION_LISTS


def by_pk(value: str | None) -> int | None:
    """A filter's value as a primary key; a malformed one is the user's error."""
    if value is None:
        return None
    if not value.isdigit():
        raise IncorrectLookupParameters(f"{value!r} is not an id.")
    return int(value)


class AutocompleteFilter(admin.SimpleListFilter):
    """Pick the related record with Django's own autocomplete widget.

    The widget asks the autocomplete view about `field_name` of Evidence, so
    the related admin's search fields and permissions apply. Choosing a
    record reloads the list (her2db/autocomplete_filter.js).
    """

    template = "admin/her2db_autocomplete_filter.html"
    field_name = ""
    related_model = None

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }

    def widget_html(self, model_admin) -> str:
        field = Evidence._meta.get_field(self.field_name)
        widget = AutocompleteSelect(
            field,
            model_admin.admin_site,
            attrs={
                "class": "her2db-filter-select",
                "data-filter-parameter": self.parameter_name,
                "aria-label": f"Filter by {self.title}",
            },
        )
        chooser = forms.ModelChoiceField(
            self.related_model._default_manager.all(), required=False, widget=widget
        )
        return chooser.widget.render(self.parameter_name, by_pk(self.value()))

    @classmethod
    def matching(cls, pk: int):
        """The claims about this record, as a subquery of their ids."""
        return Evidence.objects.filter(**{cls.field_name: pk}).values("pk")

    def queryset(self, request, queryset):
        pk = by_pk(self.value())
        if pk is None:
            return queryset
        return queryset.filter(pk__in=self.matching(pk))

    def __init__(self, request, params, model, model_admin):
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)
        by_pk(self.value())  # refuse a malformed id before anything renders
        self.rendered = self.widget_html(model_admin)


class AgentFilter(AutocompleteFilter):
    title = "agent"
    parameter_name = "agent"
    field_name = "agents"
    related_model = Agent


class MechanismFilter(AutocompleteFilter):
    """A mechanism and everything filed under it."""

    title = "mechanism (and below)"
    parameter_name = "mechanism"
    field_name = "mechanism"
    related_model = Mechanism

    @classmethod
    def matching(cls, pk: int):
        ids = Mechanism.objects.subtree_ids(Mechanism.objects.filter(pk=pk))
        return Evidence.objects.filter(mechanism__in=ids).values("pk")


class TrialFilter(AutocompleteFilter):
    title = "trial"
    parameter_name = "trial"
    field_name = "trials"
    related_model = Trial


class CitationFilter(AutocompleteFilter):
    title = "citation"
    parameter_name = "citation"
    field_name = "citations"
    related_model = Citation


def about_target(pk: int):
    """Claims about a gene: its agents act on it, or its mechanism involves it."""
    return Evidence.objects.filter(
        Q(agents__targets=pk) | Q(mechanism__genes=pk)
    ).values("pk")


class TargetFilter(admin.SimpleListFilter):
    """Reached from a target's page: shown only while it is in use."""

    title = "target"
    parameter_name = "target"

    @classmethod
    def matching(cls, pk: int):
        return about_target(pk)

    def lookups(self, request, model_admin):
        pk = by_pk(self.value())
        if pk is None:
            return []
        target = Target.objects.filter(pk=pk).first()
        return [(str(pk), str(target) if target else f"#{pk}")]

    def queryset(self, request, queryset):
        pk = by_pk(self.value())
        if pk is None:
            return queryset
        return queryset.filter(pk__in=self.matching(pk))
