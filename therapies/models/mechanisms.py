"""Resistance mechanisms, a tree under the review's categories."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from her2db.models import (
    LONG_TEXT,
    BoundedTextField,
    NaturalKeyManager,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
    unique_pair,
)

from .agents import Target


class MechanismGene(NaturalKeyModel):
    """A gene involved in a mechanism."""

    mechanism = models.ForeignKey(
        "therapies.Mechanism", on_delete=models.CASCADE, related_name="mechanism_genes"
    )
    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, related_name="mechanism_genes"
    )

    natural_key_fields = ("mechanism__slug", "target__symbol")

    class Meta:
        ordering = ["mechanism", "target"]
        constraints = [
            unique_pair("mechanism", "target", "This gene is already listed."),
        ]

    def __str__(self):
        return f"{self.mechanism} · {self.target}"


class MechanismQuerySet(models.QuerySet):
    def subtree_ids(self, roots) -> set[int]:
        """Ids of the given mechanisms and all their descendants (one query a level)."""
        ids = {m.pk for m in roots}
        frontier = set(ids)
        while frontier:
            frontier = (
                set(
                    Mechanism.objects.filter(parent__in=frontier).values_list(
                        "pk", flat=True
                    )
                )
                - ids
            )
            ids |= frontier
        return ids


class MechanismManager(NaturalKeyManager.from_queryset(MechanismQuerySet)):
    pass


class Mechanism(TimeStampedModel, NaturalKeyModel):
    """A resistance mechanism, placed in a tree under the review's categories."""

    class Category(models.TextChoices):
        HER_RECEPTOR = "HER_RECEPTOR", "HER receptor layer"
        DOWNSTREAM = "DOWNSTREAM", "Downstream signalling"
        COMPENSATORY = "COMPENSATORY", "Compensatory pathways"
        CELL_CYCLE = "CELL_CYCLE", "Cell cycle"
        METABOLISM = "METABOLISM", "Metabolism"
        MICROENVIRONMENT = "MICROENVIRONMENT", "Tumour microenvironment and immunity"
        ADC_SPECIFIC = "ADC_SPECIFIC", "ADC-specific"

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    category = models.CharField(max_length=20, choices=Category)
    description = BoundedTextField(blank=True, max_length=LONG_TEXT)
    genes = models.ManyToManyField(
        Target, through=MechanismGene, related_name="mechanisms", blank=True
    )
    history = curated_history(m2m_fields=[genes])

    natural_key_fields = ("slug",)
    objects = MechanismManager()

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="%(app_label)s_%(class)s_not_own_parent",
                violation_error_message="A mechanism cannot be its own parent.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        ancestor = self.parent
        seen = set()
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "This would make the tree a cycle."})
            if ancestor.pk in seen:
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if self.parent and self.parent.category != self.category:
            raise ValidationError(
                {
                    "category": "A mechanism has its parent's category "
                    f"({self.parent.get_category_display()})."
                }
            )
        if self.parent_id is None and self.category:
            # One root per category: another would stand outside the tree.
            root = (
                type(self)
                .objects.filter(category=self.category, parent__isnull=True)
                .exclude(pk=self.pk)
                .values_list("slug", flat=True)
                .first()
            )
            if root:
                raise ValidationError(
                    {
                        "parent": f"{self.get_category_display()} already has its "
                        f"root mechanism ({root}): file this one under it."
                    }
                )

    def ancestors(self) -> list["Mechanism"]:
        chain, node = [], self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain[::-1]
