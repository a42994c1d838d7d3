"""Full-text search: ranked on PostgreSQL's GIN indexes, by substring elsewhere."""

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

SEARCH_CONFIG = "english"
_WORD = re.compile(r"[^\W_]+")


def search_vector(groups):
    """A weighted tsvector over a model's columns, as its GIN index is built.

    `groups` is [(weight, [column, ...]), ...]; the migrations that create the
    indexes spell out the same expression, and a test checks they are used.
    """
    from django.contrib.postgres.search import SearchVector

    vector = None
    for weight, columns in groups:
        part = SearchVector(*columns, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


def search_query(text: str):
    """What a user typed: its words as typed, or as prefixes of indexed words."""
    from django.contrib.postgres.search import SearchQuery

    plain = SearchQuery(text, search_type="plain", config=SEARCH_CONFIG)
    words = [w for w in _WORD.findall(text) if len(w) <= 100][:12]
    if not words:
        return plain
    prefixes = " & ".join(f"{w}:*" for w in words)
    return plain | SearchQuery(prefixes, search_type="raw", config=SEARCH_CONFIG)


def search(
    queryset: QuerySet, text: str, groups, related: Iterable[tuple] = ()
) -> QuerySet:
    """Rows matching `text`, best first on PostgreSQL.

    PostgreSQL: full-text search on the weighted vector (GIN-indexed), ranked,
    with `related` = [(model, outer_field, [columns]), ...] matched through
    their own indexed vectors (an agent's aliases, a citation's authors).
    Elsewhere: every word must occur (case-insensitively) in some column.
    """
    text = text.strip()
    if not text:
        return queryset
    model = queryset.model
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchRank

        query = search_query(text)
        vector = search_vector(groups)
        if not related:
            matching = queryset.annotate(_search=vector).filter(_search=query)
        else:
            # A union of id sets, rather than OR, so each part uses its index.
            ids = model._default_manager.annotate(_search=vector).filter(_search=query)
            ids = ids.values("pk").order_by()
            for related_model, outer_field, columns in related:
                ids = ids.union(
                    related_model._default_manager.annotate(
                        _search=search_vector([("A", columns)])
                    )
                    .filter(_search=query)
                    .values(outer_field)
                    .order_by()
                )
            matching = queryset.filter(pk__in=ids)
        # Rank on the telling columns only (names, identifiers, titles): long
        # texts such as abstracts are matched through the index, but computing
        # their vectors again for every match to rank them costs seconds.
        telling = [group for group in groups if group[0] in "AB"] or groups
        rank = SearchRank(search_vector(telling), query)
        return matching.annotate(_rank=rank).order_by(
            "-_rank", *model._meta.ordering, "pk"
        )
    columns = [c for _, group in groups for c in group]
    for word in text.split()[:12]:
        match = Q()
        for column in columns:
            match |= Q(**{f"{column}__icontains": word})
        for related_model, outer_field, related_columns in related:
            inner = Q()
            for column in related_columns:
                inner |= Q(**{f"{column}__icontains": word})
            match |= Exists(
                related_model.objects.filter(inner, **{outer_field: OuterRef("pk")})
            )
        queryset = queryset.filter(match)
    return queryset
