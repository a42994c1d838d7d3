"""The references app's resources: citations and the people who wrote them."""

from her2db.registry import Resource, registry

from .models import Author, Citation, CitationAuthor, DistinctAuthors

registry.register(
    # No endpoint of its own: authors are read and written through citations.
    Resource(Author, kind="author"),
    # A curator's finding that two authors check_data pairs are two people:
    # curated and released (a database loaded from either asks no more about
    # the pair); no kind of its own in the change feed.
    Resource(DistinctAuthors),
    Resource(
        Citation,
        key="citekey",
        basename="citations",
        viewset="references.views.CitationViewSet",
        kind="citation",
        search=(
            ("A", ("citekey", "doi", "pmid", "pmcid")),
            ("B", ("title",)),
            ("C", ("journal",)),
            ("D", ("abstract",)),
        ),
        # A citation is also found by its authors' family names.
        search_related=((Author, "citations", ("family_name",), "A"),),
    ),
    Resource(CitationAuthor, owner="citation", feed_field="authors"),
)
