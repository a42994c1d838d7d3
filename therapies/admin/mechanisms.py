"""Admin for mechanisms of resistance, listed as the tree they are."""

from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import Case, Count, IntegerField, Value, When
from django.urls import reverse
from django.utils.html import format_html

from her2db.admin_base import CuratedAdmin

from ..models import Evidence, Mechanism
from .filters import MechanismFilter
from .related import RelatedEvidenceMixin

# Indentation steps the stylesheet knows (her2db/admin.css); deeper nodes
# are shown at the deepest.
DEPTHS = 6


class MechanismTree:
    """Every mechanism's place in the tree and its claims with those below it.

    Two queries however many mechanisms: their (id, parent, name, category)
    and the claims per mechanism.
    """

    def __init__(self):
        rows = list(
            Mechanism.objects.values_list("pk", "parent_id", "category", "name")
        )
        direct = dict(
            Evidence.objects.values_list("mechanism")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("mechanism", "n")
        )
        # Categories in the review's order, then names.
        rank = {code: i for i, code in enumerate(Mechanism.Category.values)}
        children = defaultdict(list)
        for pk, parent, category, name in rows:
            children[parent].append((rank.get(category, len(rank)), name.lower(), pk))
        self.position, self.depth, self.total = {}, {}, {}
        for root in sorted(children[None]):
            self._walk(root[2], children, direct)
        for pk, *_ in rows:  # outside the tree (a cycle): listed last
            if pk not in self.position:
                self._walk(pk, children, direct)

    def _walk(self, root, children, direct) -> None:
        stack = [(root, 0, False)]
        while stack:
            pk, depth, done = stack.pop()
            if done:
                below = sum(
                    self.total[c[2]] for c in children[pk] if c[2] in self.total
                )
                self.total[pk] = direct.get(pk, 0) + below
                continue
            if pk in self.position:
                continue
            self.position[pk] = len(self.position)
            self.depth[pk] = depth
            stack.append((pk, depth, True))
            for child in sorted(children[pk], reverse=True):
                stack.append((child[2], depth + 1, False))

    def annotations(self) -> dict:
        def case(values: dict):
            whens = [When(pk=pk, then=Value(v)) for pk, v in values.items()]
            return Case(*whens, default=Value(0), output_field=IntegerField())

        return {
            "tree_position": case(self.position),
            "tree_depth": case(self.depth),
            "tree_total": case(self.total),
        }


class TreeChangeList(ChangeList):
    """In tree order, unless the curator sorts by a column."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["tree_position", "pk"]


@admin.register(Mechanism)
class MechanismAdmin(RelatedEvidenceMixin, CuratedAdmin):
    evidence_filter = MechanismFilter
    list_display = ["tree_name", "category", "gene_list", "evidence_counts"]
    list_filter = ["category"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description", "genes__symbol"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent", "genes"]

    def changelist_view(self, request, extra_context=None):
        request.her2db_tree = MechanismTree()
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .prefetch_related("genes")
            .annotate(n_evidence=Count("evidence", distinct=True))
        )
        tree = getattr(request, "her2db_tree", None)
        if tree is not None:
            queryset = queryset.annotate(**tree.annotations())
        # GROUP BY drops Meta.ordering
        return queryset.order_by(*Mechanism._meta.ordering)

    def get_changelist(self, request, **kwargs):
        return TreeChangeList

    @admin.display(description="mechanism", ordering="tree_position")
    def tree_name(self, obj):
        depth = min(getattr(obj, "tree_depth", 0), DEPTHS)
        return format_html(
            '<span class="tree-node tree-depth-{}">{}</span>', depth, obj.name
        )

    @admin.display(description="genes")
    def gene_list(self, obj):
        return ", ".join(t.symbol for t in obj.genes.all())

    @admin.display(description="evidence (here / with those below)")
    def evidence_counts(self, obj):
        total = getattr(obj, "tree_total", obj.n_evidence)
        url = reverse("admin:therapies_evidence_changelist")
        return format_html(
            '<a href="{}?mechanism={}">{} / {}</a>', url, obj.pk, obj.n_evidence, total
        )
