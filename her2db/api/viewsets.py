"""The viewset of every curated resource."""

from django.db import transaction
from rest_framework import renderers, viewsets
from rest_framework import status as http
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from her2db.registry import registry

from .conditional import (
    CONDITIONAL_WRITES,
    IF_MATCH_REQUIRED,
    ConditionalGetMixin,
    PreconditionFailed,
    PreconditionRequired,
    etag_of,
    parse_etags,
)
from .pagination import Counted
from .reads import RECORDS, CompiledList, plan_for
from .renderers import JSONRenderer, dump_json
from .search import public_matches

# Each curated view's queryset by (view class, variant): see get_queryset.
_BUILT: dict = {}
# Each curated view's unfiltered list, compiled: see list_rows.
_LISTS: dict = {}
# The query parameters of a list that leave its query as it is.
PAGING = frozenset({"page", "page_size"})
# The query parameters of a search that leave its rows all that match.
SEARCH_ONLY = PAGING | {"search", "ordering"}


class CuratedViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """A resource of curated data: conditional requests and safe writes.

    - Every 200 or 201 carries an ETag computed from the representation;
      a GET whose If-None-Match holds it gets 304.
    - PUT, PATCH, DELETE (and POST actions on one object) honour If-Match:
      the row is locked, its current representation compared, 412 if stale.
      PUT, PATCH and DELETE require it (428 without), so no update is lost.
    - Writes run in one transaction, rolled back on any error; a delete that
      evidence (or anything else) still protects gets 409 naming the rows.
    - A write answers with the object as a GET would show it, and its ETag.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Records are looked up by the field the registry declares.
        resource = registry.find(cls.serializer_class.Meta.model)
        if resource is not None:
            cls.lookup_field = resource.lookup_field

    # Set by subclasses: lookup by natural key.
    lookup_value_regex = r"[^/]+"

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            self.in_write_transaction = True
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        # Errors are JSON whatever the client accepted (BibTeX has no error form).
        request = self.request
        if getattr(request, "accepted_renderer", None) is not None and not isinstance(
            request.accepted_renderer,
            (JSONRenderer, renderers.BrowsableAPIRenderer),
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().handle_exception(exc)
        # A refused write leaves nothing behind (the handler may still read).
        if getattr(self, "in_write_transaction", False):
            transaction.set_rollback(True)
        return response

    def build_queryset(self):
        """The rows, annotations and prefetches of this resource (subclasses)."""
        raise NotImplementedError

    def queryset_variant(self) -> tuple:
        """What `build_queryset` depends on besides the view's class: the
        reader's permissions (what they may see), and one object or a list. A
        view whose rows depend on anything else says so by adding to it."""
        user = self.request.user
        seen = frozenset(user.get_all_permissions()) if user.is_authenticated else ()
        return (seen, bool(self.detail))

    def get_queryset(self):
        """`build_queryset()`, built once for each variant and cloned for each
        request: annotations with subqueries (counts) cost more to build and
        resolve than a page of rows costs to read. The kept queryset is never
        evaluated, only cloned (`.all()`), so no request sees another's rows."""
        key = (type(self), self.queryset_variant())
        built = _BUILT.get(key)
        if built is None:
            built = _BUILT[key] = self.build_queryset()
        return built.all()

    def values_plan(self, queryset):
        """How to read `queryset` as values (her2db/api/reads.py), or None to
        read it through the serializer."""
        plan = plan_for(self.get_serializer_class(), queryset)
        if plan is None or plan.leaves_out(self.get_serializer_context()):
            return None
        return plan

    def list(self, request, *args, **kwargs):
        """A page of the list, read as values where the serializer's fields
        allow it, else through the serializer."""
        found = self.list_rows()
        if found is None:
            return super().list(request, *args, **kwargs)
        plan, rows = found
        page = self.paginate_queryset(self.counted(rows))
        data = plan.represent(list(rows if page is None else page), request)
        if page is None:
            return Response(data)
        return self.get_paginated_response(data)

    def counted(self, rows):
        """`rows`, counted in the search documents alone when an anonymous
        reader searches and asks nothing else (search.public_matches): on
        PostgreSQL that spares the count a join to each match's record. An
        anonymous reader's rows are the registry's public rows, which is
        what that count counts."""
        params = self.request.query_params
        filterset = getattr(self, "filterset_class", None)
        if (
            "search" not in params
            or not params.keys() <= SEARCH_ONLY
            or self.request.user.is_authenticated
            or filterset is None
            or "search" not in filterset.base_filters
        ):
            return rows
        found = public_matches(rows.model, params["search"], rows.db)
        return rows if found is None else Counted(rows, found)

    def list_rows(self):
        """(the plan, the `values()` rows to page) of this list, or None to
        read it through the serializer.

        A list asked for with nothing but a page (no filter, search or
        ordering) has the same query for every reader of one variant: it is
        compiled once (reads.CompiledList) and run again with the next page's
        LIMIT and OFFSET."""
        unfiltered = self.request.query_params.keys() <= PAGING
        if unfiltered:
            base = self.get_queryset()
            key = (type(self), self.queryset_variant(), base.db)
            kept = _LISTS.get(key)
            if kept is not None and not kept[0].leaves_out(
                self.get_serializer_context()
            ):
                return kept
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.values_plan(queryset)
        if plan is None:
            return None
        rows = queryset.prefetch_related(None).values(*plan.columns)
        if unfiltered:
            _LISTS[key] = (plan, CompiledList(rows, plan.naive))
        return plan, rows

    def retrieve(self, request, *args, **kwargs):
        """One object, read as values as a list's are where it can be.

        Reading checks no object permission: reads need none (ModelPermissions).
        """
        queryset = self.get_queryset()
        plan = self.values_plan(queryset)
        if plan is None:
            return super().retrieve(request, *args, **kwargs)
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        rows = RECORDS.rows(
            (type(self), self.queryset_variant(), plan),
            queryset,
            plan,
            self.lookup_filter(value),
        )
        if len(rows) != 1:
            # As get_object_or_404 answers: none found (or, impossibly, more).
            return super().retrieve(request, *args, **kwargs)
        return Response(plan.represent(rows, request)[0])

    def get_object(self):
        """The object named in the URL (its natural key), from `get_queryset()`.

        Query-string filters do not apply to a single object. For a write the
        row is locked for the rest of the transaction, so that the ETag
        compared with If-Match is still current when the write happens.
        """
        writing = self.request.method in CONDITIONAL_WRITES
        queryset = self.get_queryset()
        if writing:
            queryset = queryset.select_for_update(of=("self",))
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        instance = get_object_or_404(queryset, **self.lookup_filter(value))
        self.check_object_permissions(self.request, instance)
        if writing:
            self.check_if_match(instance)
        return instance

    def lookup_filter(self, value: str) -> dict:
        return {self.lookup_field: value}

    def check_if_match(self, instance) -> None:
        wanted = self.request.headers.get("If-Match", "").strip()
        if not wanted and self.request.method in IF_MATCH_REQUIRED:
            raise PreconditionRequired()
        if not wanted or wanted == "*":
            return
        current = etag_of(dump_json(self.get_serializer(instance).data))
        # If-Match compares strongly: a weak tag never matches.
        if current not in parse_etags(wanted):
            raise PreconditionFailed()

    def reread(self, instance):
        """The saved object as GET shows it (same annotations and prefetches)."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        data = self.get_serializer(self.reread(serializer.instance)).data
        return Response(data, status=http.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self.write_update(serializer)

    def write_update(self, serializer) -> Response:
        """Save a valid update and answer with the object as GET shows it."""
        self.perform_update(serializer)
        return Response(self.get_serializer(self.reread(serializer.instance)).data)
