"""What each curated model is to the rest of HER2db, declared once.

Each app declares its models in its own `resources.py` (as NetBox registers
search per app); the app's AppConfig imports that module when Django starts.
Everything else reads the declarations from here and keeps no list of its
own: the API's links and 409s, the summaries and viewset lookups, the change
feed's kinds and parents, the groups' permissions, the release tables, the
change filter's choices and the search indexes. A test fails when a curated
model is missing or declared twice.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

# (weight, (column, ...)): A the most telling, D the least (PostgreSQL's weights).
SearchGroups = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Resource:
    """One curated model as programs, feeds, groups and releases see it.

    A record (an agent, a trial) has a `key` that names it to programs and,
    when it has an endpoint, a `basename`. A row that belongs to a record (an
    agent's alias, a trial's arm) names its `owner`; it is edited, fed and
    released as part of that record.
    """

    model: type[models.Model]
    # The field that names a record in URLs, the change feed and 409s.
    key: str = ""
    # The API's route name (/api/v1/<basename>/); "" for no endpoint.
    basename: str = ""
    # The field the API looks a record up by, when not `key`.
    lookup: str = ""
    # The dotted path of the viewset serving /api/v1/<basename>/.
    viewset: str = ""
    # The change feed's name for the kind of record; "" for owned rows.
    kind: str = ""
    # An owned row: the path to its record ("arm.trial"), and the name of what
    # changed on that record when a row does ("arms"; "" if the feed ignores it).
    owner: str = ""
    feed_field: str = ""
    # Who may read a record without the unpublished-evidence permission:
    # lookups every public row matches ({} = every row is public).
    public: dict[str, Any] = field(default_factory=dict)
    # ?search=: weighted columns of the model, and columns of related rows that
    # also find it ((model, one relation from that model to this one, columns,
    # weight)); her2db/search_index.py keeps a document of both per row.
    search: SearchGroups = ()
    search_related: tuple[
        tuple[type[models.Model], str, tuple[str, ...], str], ...
    ] = ()
    # Never readable without the unpublished-evidence permission (proposals).
    private: bool = False
    # Part of a release (export_release), or bookkeeping left out of it.
    released: bool = True
    # Rows the system writes about curated data, not curated data itself.
    curated: bool = True

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def lookup_field(self) -> str:
        return self.lookup or self.key

    def identify(self, obj) -> str:
        """How programs name one record: its key, or its text for authors."""
        return str(getattr(obj, self.key)) if self.key else str(obj)

    def owner_of(self, row):
        """The record an owned row belongs to (the row itself for a record)."""
        for attribute in self.owner.split(".") if self.owner else ():
            row = getattr(row, attribute)
        return row

    @property
    def owner_lookup(self) -> str:
        """The owner path as a queryset lookup ("arm__trial")."""
        return self.owner.replace(".", "__")


class Registry:
    """The declared resources, by model."""

    def __init__(self):
        self._by_model: dict[type[models.Model], Resource] = {}

    def register(self, *resources: Resource) -> None:
        for resource in resources:
            if resource.model in self._by_model:
                raise ValueError(f"{resource.label} is declared twice.")
            self._by_model[resource.model] = resource

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._by_model.values())

    def __contains__(self, model) -> bool:
        return model in self._by_model

    def get(self, model) -> Resource:
        """The declaration of a model (or instance); KeyError if there is none."""
        if not isinstance(model, type):
            model = type(model)
        return self._by_model[model]

    def find(self, model) -> Resource | None:
        try:
            return self.get(model)
        except KeyError:
            return None

    def labels(self, **wanted) -> set[str]:
        """Labels ("therapies.trialarm") of the resources whose attributes match.

        By label, for code that meets historical models (migrations' apps).
        """
        return {
            r.label
            for r in self
            if all(getattr(r, name) == value for name, value in wanted.items())
        }

    def records(self) -> list[Resource]:
        """Records programs name (with a key), not rows owned by one."""
        return [r for r in self if not r.owner and r.curated]

    def owned(self) -> list[Resource]:
        return [r for r in self if r.owner]

    def kinds(self) -> list[str]:
        """The change feed's kinds, sorted."""
        return sorted(r.kind for r in self if r.kind)

    def endpoints(self) -> list[Resource]:
        """Resources with an API endpoint, by basename."""
        return sorted((r for r in self if r.basename), key=lambda r: r.basename)

    def released(self) -> list[Resource]:
        """Released models in declaration order (each after what it points at)."""
        return [r for r in self if r.released and r.curated]

    def public_lookups(self, model, prefix: str = "") -> dict[str, Any]:
        """The public rule of a model's rows as lookups, from `prefix`.

        An owned row is public when its record is: an evidence item's citation
        rows follow the item's status.
        """
        resource = self.get(model)
        if resource.private:
            return {"pk__in": []}
        if resource.public:
            return {f"{prefix}{k}": v for k, v in resource.public.items()}
        if resource.owner:
            owner_model = owner_model_of(resource)
            return self.public_lookups(
                owner_model, f"{prefix}{resource.owner_lookup}__"
            )
        return {}

    def public_rows(self, model, queryset=None):
        """The rows of `model` that anyone may read."""
        if queryset is None:
            queryset = model._default_manager.all()
        lookups = self.public_lookups(model)
        return queryset.filter(**lookups) if lookups else queryset

    def is_public(self, obj, model=None) -> bool:
        """Whether one record or owned row may be read by anyone, as it is now.

        `model` names the declared model when `obj` is a historical copy.
        """
        if self.get(model or type(obj)).private:
            return False
        for lookup, value in self.public_lookups(model or type(obj)).items():
            current = obj
            for attribute in lookup.split("__"):
                current = getattr(current, attribute)
            if current != value:
                return False
        return True


def owner_model_of(resource: Resource) -> type[models.Model]:
    model = resource.model
    for attribute in resource.owner.split("."):
        model = model._meta.get_field(attribute).related_model
    return model


registry = Registry()
