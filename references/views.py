"""The citations endpoint, in JSON, CSL-JSON, BibTeX and RIS."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.settings import api_settings

from her2db.api.fields import prefetched
from her2db.api.viewsets import CuratedViewSet

from .filters import CitationFilter
from .models import Citation, CitationAuthor
from .renderers import CITATION_RENDERERS, CitationRenderer
from .serializers import CitationSerializer

FORMAT = OpenApiParameter(
    "format",
    str,
    enum=["json", "csl", "bibtex", "ris"],
    description="CSL-JSON, BibTeX or RIS instead of JSON (so does an Accept of "
    + ", ".join(r.media_type for r in CITATION_RENDERERS)
    + "). A list comes a page at a time, with a Link header to the next.",
)


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT]),
    retrieve=extend_schema(parameters=[FORMAT]),
)
class CitationViewSet(CuratedViewSet):
    """Citations, by citekey; also as CSL-JSON, BibTeX and RIS."""

    serializer_class = CitationSerializer
    filterset_class = CitationFilter
    lookup_value_regex = r"[A-Za-z][A-Za-z0-9_:+-]*"
    ordering_fields = ["citekey", "year", "journal", "created_at", "updated_at"]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, *CITATION_RENDERERS]

    def queryset_variant(self) -> tuple:
        return (*super().queryset_variant(), self.exporting())

    def build_queryset(self):
        if self.exporting():
            return Citation.objects.with_authors()  # what the writers expect
        return Citation.objects.prefetch_related(
            prefetched(
                "citation_authors",
                CitationAuthor.objects.select_related("author")
                .only(
                    "citation",
                    "author__family_name",
                    "author__given_name",
                    "author__is_collective",
                    "author__orcid",
                )
                .order_by("position"),
            )
        )

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action in ("list", "retrieve"):
            return renderers
        return [r for r in renderers if not isinstance(r, CitationRenderer)]

    def perform_content_negotiation(self, request, force=False):
        # A write answers in JSON, whatever ?format= asked for.
        force = force or self.action not in ("list", "retrieve")
        return super().perform_content_negotiation(request, force=force)

    def exporting(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return isinstance(renderer, CitationRenderer)

    def list(self, request, *args, **kwargs):
        if not self.exporting():
            return super().list(request, *args, **kwargs)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        response = Response(page)
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (
                ("next", self.paginator.get_next_link()),
                ("prev", self.paginator.get_previous_link()),
            )
            if url
        ]
        if links:
            response["Link"] = ", ".join(links)
        response["X-Total-Count"] = str(self.paginator.page.paginator.count)
        return response

    def retrieve(self, request, *args, **kwargs):
        if not self.exporting():
            return super().retrieve(request, *args, **kwargs)
        return Response([self.get_object()])
