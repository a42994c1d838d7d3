"""Admin for mechanisms of resistance."""

from django.contrib import admin
from django.db.models import Count

from her2db.admin_base import CuratedAdmin

from ..models import Mechanism


@admin.register(Mechanism)
class MechanismAdmin(CuratedAdmin):
    list_display = ["name", "parent", "category", "gene_list", "n_evidence"]
    list_filter = ["category"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description", "genes__symbol"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent", "genes"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("genes")
            .annotate(n_evidence=Count("evidence", distinct=True))
            .order_by(*Mechanism._meta.ordering)  # GROUP BY drops Meta.ordering
        )

    @admin.display(description="genes")
    def gene_list(self, obj):
        return ", ".join(t.symbol for t in obj.genes.all())

    @admin.display(description="evidence", ordering="n_evidence")
    def n_evidence(self, obj):
        return obj.n_evidence
