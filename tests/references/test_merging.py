"""Merging authors (references/merging.py) and marking two as different
people: links keep their places, a citation naming both names the kept
author once, history says why, and readers see the merge at once."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from her2db import data_version
from her2db.operations import operation
from references.merging import AuthorMerge, merge_authors, merge_problems
from references.models import Author, Citation, CitationAuthor, DistinctAuthors
from tests import factories
from therapies.models import ChangeEntry

pytestmark = pytest.mark.django_db


def cite(*authors: Author, **kw) -> Citation:
    """A citation naming these authors, in this order."""
    citation = factories.make_citation(**kw)
    for position, author in enumerate(authors, start=1):
        CitationAuthor.objects.create(
            citation=citation, author=author, position=position
        )
    return citation


def names(citation: Citation) -> list[str]:
    return [str(author) for author in citation.ordered_authors()]


def positions(citation: Citation) -> list[int]:
    return list(citation.citation_authors.values_list("position", flat=True))


@pytest.fixture
def slamon():
    """One person under two spellings, and a colleague."""
    short = factories.make_author(family_name="Slamon", given_name="D.")
    full = factories.make_author(family_name="Slamon", given_name="D. J.")
    other = factories.make_author(family_name="Press", given_name="M. F.")
    return short, full, other


def test_merge_moves_each_link_to_the_kept_author_at_its_position(slamon):
    short, full, other = slamon
    first = cite(other, short)
    second = cite(short, other, factories.make_author(family_name="Ullrich"))
    merge_authors(full, [short])
    assert names(first) == ["Press M. F.", "Slamon D. J."]
    assert names(second) == ["Slamon D. J.", "Press M. F.", "Ullrich A"]
    assert positions(first) == [1, 2] and positions(second) == [1, 2, 3]
    assert not Author.objects.filter(pk=short.pk).exists()
    assert set(full.citations.all()) == {first, second}


def test_a_citation_naming_both_names_the_kept_author_once(slamon):
    short, full, other = slamon
    both = cite(short, other, full, factories.make_author(family_name="Ullrich"))
    changes = merge_authors(full, [short])
    # The kept author's own link stays; the other's is removed and the authors
    # after it move up, so positions stay 1..n.
    assert names(both) == ["Press M. F.", "Slamon D. J.", "Ullrich A"]
    assert positions(both) == [1, 2, 3]
    assert CitationAuthor.objects.filter(citation=both, author=full).count() == 1
    [change] = changes
    assert [link.position for link in change.removed] == [1]
    assert change.moved == []


def test_merging_three_keeps_one_link_where_the_kept_one_was_not_named(slamon):
    short, full, other = slamon
    middle = factories.make_author(family_name="Slamon", given_name="D. J. K.")
    citation = cite(short, other, middle)
    merge_authors(full, [short, middle])
    assert names(citation) == ["Slamon D. J.", "Press M. F."]
    assert Author.objects.filter(family_name="Slamon").get() == full


def test_merge_leaves_history_with_the_user_and_the_reason(slamon, editor):
    short, full, other = slamon
    citation = cite(other, short)
    with operation():  # as the admin's request is
        merge_authors(full, [short], editor, "same affiliation in both papers")
    said = "merged Slamon D. into Slamon D. J.: same affiliation in both papers"
    gone = Author.history.get(id=short.pk, history_type="-")
    assert (gone.history_user, gone.history_change_reason) == (editor, said)
    kept = Author.history.filter(id=full.pk).latest()
    assert (kept.history_user, kept.history_change_reason) == (editor, said)
    link = CitationAuthor.history.filter(citation_id=citation.pk, position=2).latest()
    assert (link.author_id, link.history_change_reason) == (full.pk, said)
    # The change feed names the citation whose authors changed and the author
    # that went.
    feed = {
        (e.kind, e.identifier, e.action, tuple(e.fields))
        for e in ChangeEntry.objects.all()
    }
    assert ("citation", citation.citekey, "updated", ("authors",)) in feed
    assert ("author", "Slamon D.", "deleted", ()) in feed


def test_merge_advances_the_data_version(slamon):
    short, full, other = slamon
    cite(short)
    before = data_version.current()
    merge_authors(full, [short])
    assert data_version.current() > before


def test_the_kept_author_takes_an_orcid_only_another_had(slamon):
    short, full, _ = slamon
    Author.objects.filter(pk=short.pk).update(orcid="0000-0002-1825-0097")
    short.refresh_from_db()
    merge_authors(full, [short])
    full.refresh_from_db()
    assert full.orcid == "0000-0002-1825-0097"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"is_collective": True}, "cannot be merged with a person"),
        ({"orcid": "0000-0002-1825-0097"}, "different ORCID iDs"),
    ],
)
def test_merge_refuses_collectives_with_people_and_two_orcids(slamon, change, refusal):
    short, full, _ = slamon
    Author.objects.filter(pk=full.pk).update(orcid="0000-0001-5109-3700")
    Author.objects.filter(pk=short.pk).update(**change)
    citation = cite(short)
    with pytest.raises(ValidationError, match=refusal):
        merge_authors(full, [short])
    assert Author.objects.filter(pk=short.pk).exists()
    assert names(citation) == ["Slamon D."]


def test_merge_refuses_fewer_than_two_and_authors_marked_different(slamon):
    short, full, _ = slamon
    assert merge_problems([full]) == ["Select two or more authors to merge."]
    assert AuthorMerge(full, [full]).problems() == merge_problems([full])
    DistinctAuthors.objects.create(first=full, second=short)
    [problem] = merge_problems([short, full])
    assert "Slamon D. J. and Slamon D. are marked as different people" in problem
    with pytest.raises(ValidationError, match="marked as different people"):
        merge_authors(short, [full])


def test_merge_refuses_an_author_deleted_since_it_was_planned(slamon):
    short, full, _ = slamon
    Author.objects.filter(pk=short.pk).delete()
    with pytest.raises(ValidationError, match="deleted since"):
        merge_authors(full, [short])


def test_merge_carries_the_others_marks_to_the_kept_author(slamon):
    short, full, other = slamon
    stranger = factories.make_author(family_name="Slamon", given_name="D. K.")
    DistinctAuthors.objects.create(first=stranger, second=short, note="two labs")
    DistinctAuthors.objects.create(first=other, second=short)
    DistinctAuthors.objects.create(first=full, second=other)
    merge_authors(full, [short])
    marks = {(m.first, m.second, m.note) for m in DistinctAuthors.objects.all()}
    assert marks == {(stranger, full, "two labs"), (full, other, "")}


# --- Different people -----------------------------------------------------------


def test_a_pair_is_marked_once_in_either_order_and_never_with_itself(slamon):
    short, full, _ = slamon
    DistinctAuthors.objects.create(first=short, second=full)
    reversed_pair = DistinctAuthors(first=full, second=short)
    with pytest.raises(ValidationError, match="already marked as different people"):
        reversed_pair.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        reversed_pair.save()
    alone = DistinctAuthors(first=short, second=short)
    with pytest.raises(ValidationError, match="Choose two different authors"):
        alone.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        alone.save()


def test_a_mark_goes_with_either_of_its_authors(slamon):
    short, full, _ = slamon
    DistinctAuthors.objects.create(first=short, second=full)
    with operation():
        short.delete()
    assert not DistinctAuthors.objects.exists()


def test_marks_have_natural_keys_by_the_two_names(slamon):
    short, full, _ = slamon
    mark = DistinctAuthors.objects.create(first=short, second=full)
    assert mark.natural_key() == ("Slamon", "D.", "Slamon", "D. J.")
    assert DistinctAuthors.objects.get_by_natural_key(*mark.natural_key()) == mark
