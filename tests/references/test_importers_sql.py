"""references.importers.sql: the importers' hand-written SQL writes what the
ORM writes, field type by field type (compared as the database stores it)."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Q

from references.importers.sql import (
    WrittenIds,
    copy_created_history,
    insert_rows,
    read_back_pks,
)
from references.models import Author, Citation, CitationAuthor
from tests.conftest import make_author, make_citation
from therapies.models import ChangeEntry

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def stored(model, pk, columns) -> tuple:
    """The row as the database holds it, not as Django reads it back."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT {} FROM {} WHERE {} = %s".format(
                ", ".join(quote(c) for c in columns),
                quote(model._meta.db_table),
                quote(model._meta.pk.column),
            ),
            [pk],
        )
        return cursor.fetchone()


def inserted_both_ways(model, make) -> tuple[tuple, tuple]:
    """One row from insert_rows and one from bulk_create, as stored."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    insert_rows(model, [make()], connection.alias)
    by_hand = model._default_manager.order_by("-pk").first()
    (by_orm,) = model._default_manager.bulk_create([make()])
    return stored(model, by_hand.pk, columns), stored(model, by_orm.pk, columns)


def test_insert_rows_writes_foreign_keys_and_positive_small_integers():
    # CitationAuthor: two foreign keys to BigAutoField keys, a position.
    citation, author = make_citation(), make_author()
    rows = []

    def link():
        rows.append(len(rows) + 1)
        return CitationAuthor(citation=citation, author=author, position=rows[-1])

    by_hand, by_orm = inserted_both_ways(CitationAuthor, link)
    assert by_hand == (citation.pk, author.pk, 1)
    assert by_orm == (citation.pk, author.pk, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "citation"),  # CharField
        ("identifier", "Müller2020 ‘quoted’"),  # CharField, not ASCII
        ("changed_at", WHEN),  # DateTimeField, aware, with microseconds
        ("fields", ["authors", "title"]),  # JSONField
    ],
)
def test_insert_rows_stores_each_type_as_bulk_create_does(field, value):
    def entry():
        values = {
            "kind": "citation",
            "identifier": "X2020",
            "action": ChangeEntry.Action.UPDATED,
            "changed_at": WHEN,
            "fields": [],
        }
        return ChangeEntry(**{**values, field: value})

    by_hand, by_orm = inserted_both_ways(ChangeEntry, entry)
    assert by_hand == by_orm
    read = ChangeEntry.objects.order_by("pk").first()
    assert getattr(read, field) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("family_name", "Müller-Lüdenscheidt"),  # CharField
        ("is_collective", True),  # BooleanField
        ("is_collective", False),
    ],
)
def test_insert_rows_stores_authors_as_bulk_create_does(field, value):
    # created_at and updated_at (auto_now DateTimeFields) are set at the
    # insert, by each of them; they are compared apart.
    names = iter(range(1000))

    def author():
        values = {"family_name": "Smith", "given_name": f"J{next(names)}"}
        return Author(**{**values, field: value})

    by_hand, by_orm = inserted_both_ways(Author, author)
    columns = [f.attname for f in Author._meta.concrete_fields if not f.primary_key]
    stamps = [columns.index("created_at"), columns.index("updated_at")]
    assert [v for i, v in enumerate(by_hand) if i not in stamps] == [
        v if name != "given_name" else "J0"
        for i, (name, v) in enumerate(zip(columns, by_orm, strict=True))
        if i not in stamps
    ]
    first, second = Author.objects.order_by("pk")
    assert getattr(first, field) == value
    assert first.created_at == first.updated_at <= second.created_at


def test_read_back_pks_gives_inserted_rows_their_keys():
    authors = [Author(family_name="Smith", given_name=g) for g in ("A", "B")]
    insert_rows(Author, authors, connection.alias)
    read_back_pks(Author, authors, ("family_name", "given_name"), connection.alias)
    assert [a.pk for a in authors] == list(
        Author.objects.order_by("given_name").values_list("pk", flat=True)
    )
    assert not authors[0]._state.adding


def test_insert_rows_refuses_a_type_it_does_not_handle():
    # A citation has text, dates and a URL.
    with pytest.raises(ImproperlyConfigured, match="insert_rows cannot write"):
        insert_rows(Citation, [Citation(citekey="A2020")], connection.alias)
    assert not Citation.objects.exists()


def history_rows(model, obj) -> list[tuple]:
    history = model.history.model
    columns = [f.column for f in history._meta.concrete_fields if not f.primary_key]
    return [
        stored(history, pk, columns)
        for pk in history.objects.filter(**{model._meta.pk.attname: obj.pk})
        .order_by("history_id")
        .values_list("history_id", flat=True)
    ]


@pytest.mark.parametrize("with_user", [False, True])
def test_copied_history_is_what_bulk_history_create_writes(with_user, curator):
    # A citation with char, text, small integer, boolean, date, datetime and
    # URL values; its author link has foreign keys.
    user = curator if with_user else None
    citation = make_citation(
        authors=1,
        pmid="12345",
        doi="10.1000/x",
        abstract="Line one.\n\nLine two ‘quoted’.",
        volume="5",
        url="https://example.org/a?b=1",
        retracted=True,
        retraction_date=date(2024, 2, 29),
    )
    link = citation.citation_authors.get()
    for model, obj in ((Citation, citation), (CitationAuthor, link)):
        model.history.model.objects.all().delete()
        copy_created_history(
            model, Q(pk=obj.pk), WHEN, "import x", user and user.pk, connection.alias
        )
        model.history.bulk_history_create(
            [obj],
            default_user=user,
            default_change_reason="import x",
            default_date=WHEN,
        )
        copied, by_library = history_rows(model, obj)
        assert copied == by_library


def test_written_ids_remembers_ids_until_dropped():
    written = WrittenIds()
    assert written.among([1, 2]) == set()
    written.add([1, 2, None])
    written.add([2, 3])  # again: no error
    assert written.among([2, 3, 4, None]) == {2, 3}
    written.drop()
    assert written.among([2]) == set()
