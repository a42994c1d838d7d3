"""The admin of citations and authors."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from her2db.admin_base import (
    CuratedAdmin,
    DeleteReasonForm,
    external_link,
    warning_icon,
)

from .merging import merge_authors, merge_problems, shared_citations
from .models import Author, Citation, CitationAuthor, DistinctAuthors


class MergeForm(DeleteReasonForm):
    """Which of the selected authors to keep, and why they are one person."""

    kept = forms.TypedChoiceField(
        label="Keep",
        coerce=int,
        widget=forms.RadioSelect,
        help_text="The spelling that stays; the others are deleted once their "
        "citations name it.",
    )
    reason_help = "Optional: how you know they are one person (kept in the history)."

    def __init__(self, *args, authors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change_reason"].help_text = self.reason_help
        self.fields["kept"].choices = [(a.pk, str(a)) for a in authors]
        self.fields["kept"].initial = fullest(authors).pk


def refuse_merge(request, problems: list[str], back: str = ""):
    """Say why nothing was merged; back to `back`, or stay (an action)."""
    for problem in problems:
        messages.error(request, f"Not merged: {problem}")
    return redirect(back) if back else None


def fullest(authors):
    """The likeliest spelling to keep: with an ORCID iD, the longest given
    name, then the most citations."""
    return max(
        authors,
        key=lambda a: (bool(a.orcid), len(a.given_name), a.n_citations, -a.pk),
    )


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
    actions = ["merge", "mark_different_people"]

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

    # One person under two spellings: merge them, or say they are two people.

    def has_merge_permission(self, request) -> bool:
        """Merging changes the kept author and deletes the others."""
        return self.has_change_permission(request) and self.has_delete_permission(
            request
        )

    def has_mark_different_permission(self, request) -> bool:
        return request.user.has_perm("references.add_distinctauthors")

    @admin.action(description="Merge selected authors", permissions=["merge"])
    def merge(self, request, queryset):
        problems = merge_problems(list(queryset))
        if problems:
            return refuse_merge(request, problems)
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:references_author_merge')}?ids={ids}")

    @admin.action(
        description="Mark selected authors as different people",
        permissions=["mark_different"],
    )
    def mark_different_people(self, request, queryset):
        authors = list(queryset[:3])
        if len(authors) != 2:
            messages.error(
                request, "Select exactly two authors to mark as different people."
            )
            return None
        first, second = authors
        mark = DistinctAuthors.objects.of_pair(first, second).first()
        if mark is not None:
            url = reverse("admin:references_distinctauthors_change", args=[mark.pk])
            messages.warning(
                request,
                format_html(
                    '{} and {} are already <a href="{}">marked as different '
                    "people</a>.",
                    first,
                    second,
                    url,
                ),
            )
            return None
        url = reverse("admin:references_distinctauthors_add")
        return redirect(f"{url}?first={first.pk}&second={second.pk}")

    def get_urls(self):
        return [
            path(
                "merge/",
                self.admin_site.admin_view(self.merge_view),
                name="references_author_merge",
            ),
            *super().get_urls(),
        ]

    def merge_view(self, request):
        """Confirm a merge: each author with its citations, which one to keep,
        and the citations that name two of them."""
        back = reverse("admin:references_author_changelist")
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not self.has_merge_permission(request):
            messages.error(
                request,
                "You may not merge authors: it takes the permissions to change "
                "and delete authors (the Editors group has them).",
            )
            return redirect(back)
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()]
        links = CitationAuthor.objects.select_related("citation").order_by(
            "citation__citekey"
        )
        authors = list(
            self.get_queryset(request)
            .filter(pk__in=ids)
            .prefetch_related(Prefetch("citation_links", queryset=links))
        )
        problems = merge_problems(authors)
        if problems:
            return refuse_merge(request, problems, back)
        form = MergeForm(request.POST or None, authors=authors)
        if request.method == "POST" and form.is_valid():
            kept = next(a for a in authors if a.pk == form.cleaned_data["kept"])
            others = [a for a in authors if a is not kept]
            try:
                changes = merge_authors(
                    kept, others, request.user, form.cleaned_data["change_reason"]
                )
            except ValidationError as refused:
                return refuse_merge(request, refused.messages, back)
            moved = sum(len(change.moved) for change in changes)
            removed = sum(len(change.removed) for change in changes)
            messages.success(
                request,
                f"Merged {len(others)} author(s) into {kept}: {moved} citation "
                f"link(s) moved, {removed} duplicate link(s) removed.",
            )
            return redirect("admin:references_author_change", kept.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge authors",
            "opts": self.opts,
            "authors": authors,
            "shared": shared_citations(authors),
            "form": form,
            "back": back,
        }
        return TemplateResponse(request, "admin/references/author/merge.html", context)


@admin.register(DistinctAuthors)
class DistinctAuthorsAdmin(CuratedAdmin):
    list_display = ["first", "second", "note", "created_at"]
    list_select_related = ["first", "second"]
    search_fields = [
        "first__family_name",
        "first__given_name",
        "second__family_name",
        "second__given_name",
        "note",
    ]
    autocomplete_fields = ["first", "second"]


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
