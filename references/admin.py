"""The admin of citations and authors."""

from django.contrib import admin
from django.db.models import Count

from her2db.admin_base import CuratedAdmin, external_link, warning_icon

from .models import Author, Citation, CitationAuthor


@admin.register(Author)
class AuthorAdmin(CuratedAdmin):
    list_display = [
        "family_name",
        "given_name",
        "is_collective",
        "orcid",
        "n_citations",
    ]
    list_filter = ["is_collective"]
    search_fields = ["family_name", "given_name", "orcid"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_citations=Count("citation_links"))
            .order_by(*Author._meta.ordering)  # GROUP BY drops Meta.ordering
        )

    @admin.display(description="citations", ordering="n_citations")
    def n_citations(self, obj):
        return obj.n_citations


class CitationAuthorInline(admin.TabularInline):
    model = CitationAuthor
    extra = 0
    autocomplete_fields = ["author"]
    ordering = ["position"]


@admin.register(Citation)
class CitationAdmin(CuratedAdmin):
    list_display = [
        "citekey",
        "short_title",
        "journal",
        "year",
        "pubmed_link",
        "doi_link",
        "retraction_flag",
    ]
    list_filter = ["publication_type", "retracted", "year"]
    search_fields = [
        "citekey",
        "title",
        "pmid",
        "doi",
        "pmcid",
        "journal",
        "authors__family_name",
    ]
    inlines = [CitationAuthorInline]
    readonly_fields = [
        "pubmed_link",
        "doi_link",
        "pmc_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["citekey", "title", "publication_type"]}),
        (
            "Identifiers",
            {
                "fields": [
                    ("pmid", "pubmed_link"),
                    ("doi", "doi_link"),
                    ("pmcid", "pmc_link"),
                    "url",
                ]
            },
        ),
        (
            "Source",
            {"fields": ["journal", "year", "volume", "issue", "pages", "abstract"]},
        ),
        ("Retraction", {"fields": ["retracted", "retraction_date", "retraction_note"]}),
        (None, {"fields": ["change_reason", "edit_token", "created_at", "updated_at"]}),
    ]

    @admin.display(description="title")
    def short_title(self, obj):
        return obj.title if len(obj.title) <= 80 else obj.title[:77] + "…"

    @admin.display(description="retracted", ordering="retracted")
    def retraction_flag(self, obj):
        return warning_icon(obj.retracted, "Retracted")

    @admin.display(description="PubMed")
    def pubmed_link(self, obj):
        return external_link(obj.pubmed_url, obj.pmid)

    @admin.display(description="DOI")
    def doi_link(self, obj):
        return external_link(obj.doi_url, obj.doi)

    @admin.display(description="PMC")
    def pmc_link(self, obj):
        return external_link(obj.pmc_url, obj.pmcid)
