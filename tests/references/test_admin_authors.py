"""One person under two spellings, in the admin: merge the authors from the
author list through a confirmation page, or mark them as different people."""

import pytest
from django.urls import reverse

from references.models import Author, CitationAuthor, DistinctAuthors
from tests import factories
from tests.therapies.admin_pages import messages_of

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:references_author_changelist")
MERGE = reverse("admin:references_author_merge")


@pytest.fixture
def pair():
    """Slamon D. on one paper, Slamon D. J. on two, one paper naming both."""
    short = factories.make_author(family_name="Slamon", given_name="D.")
    full = factories.make_author(family_name="Slamon", given_name="D. J.")
    alone, both = factories.make_citation(), factories.make_citation()
    other = factories.make_author(family_name="Press", given_name="M. F.")
    for citation, authors in ((alone, [full]), (both, [short, other, full])):
        for position, author in enumerate(authors, start=1):
            CitationAuthor.objects.create(
                citation=citation, author=author, position=position
            )
    return short, full, both


def act(client, action: str, *authors):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [a.pk for a in authors]},
    )


def said(client, response) -> list[str]:
    """The messages a response added, read once (the next request starts
    without them, as a browser's would once the page showed them)."""
    found = messages_of(response)
    client.cookies.pop("messages", None)
    return found


def merge_page(*authors) -> str:
    return f"{MERGE}?ids={','.join(str(a.pk) for a in authors)}"


def test_merge_action_leads_to_a_confirmation_listing_each_with_its_citations(
    editor_client, pair
):
    short, full, both = pair
    response = act(editor_client, "merge", short, full)
    assert response.status_code == 302
    assert response["Location"] == merge_page(short, full)
    page = editor_client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    for author in (short, full):
        assert f'value="{author.pk}"' in body
    assert f"{both.citekey}</a> (1)" in body  # Slamon D.'s paper, first
    # The fuller spelling is offered to keep; the paper naming both is named,
    # with what happens to it.
    assert page.context["form"]["kept"].value() == full.pk
    assert [c for c, _ in page.context["shared"]] == [both]
    assert "the link of the other\n  author is removed" in body


def test_confirming_merges_and_opens_the_kept_author(editor_client, pair):
    short, full, both = pair
    response = editor_client.post(
        merge_page(short, full), {"kept": full.pk, "change_reason": "same lab"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:references_author_change", args=[full.pk]
    )
    assert messages_of(response) == [
        "Merged 1 author(s) into Slamon D. J.: 0 citation link(s) moved, "
        "1 duplicate link(s) removed."
    ]
    assert not Author.objects.filter(pk=short.pk).exists()
    assert [str(a) for a in both.ordered_authors()] == ["Press M. F.", "Slamon D. J."]
    gone = Author.history.get(id=short.pk, history_type="-")
    assert gone.history_user.username == "editor"
    assert gone.history_change_reason == "merged Slamon D. into Slamon D. J.: same lab"
    history = editor_client.get(
        reverse("admin:references_author_history", args=[full.pk])
    )
    assert "merged Slamon D. into Slamon D. J.: same lab" in history.content.decode()


def test_the_kept_author_must_be_one_of_those_shown(editor_client, pair):
    short, full, _ = pair
    stranger = factories.make_author()
    response = editor_client.post(merge_page(short, full), {"kept": stranger.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["kept"]
    assert Author.objects.filter(pk=short.pk).exists()


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (None, "Not merged: Select two or more authors to merge."),
        (
            {"is_collective": True, "given_name": ""},
            "Not merged: A collective author (Slamon) cannot be merged with a person.",
        ),
        (
            {"orcid": "0000-0002-1825-0097"},
            "Not merged: These authors have different ORCID iDs "
            "(0000-0001-5109-3700, 0000-0002-1825-0097): they are different people.",
        ),
    ],
)
def test_refusals_are_messages_on_the_author_list(editor_client, pair, change, refusal):
    short, full, _ = pair
    selected = [full]
    if change is not None:
        Author.objects.filter(pk=full.pk).update(orcid="0000-0001-5109-3700")
        Author.objects.filter(pk=short.pk).update(**change)
        selected = [short, full]
    for ask in (
        lambda: act(editor_client, "merge", *selected),
        lambda: editor_client.get(merge_page(*selected)),
        lambda: editor_client.post(merge_page(*selected), {"kept": full.pk}),
    ):
        response = ask()
        assert response.status_code == 302
        assert said(editor_client, response) == [refusal]
    assert Author.objects.filter(pk=short.pk).exists()


def test_authors_marked_different_are_not_merged(editor_client, pair):
    short, full, _ = pair
    DistinctAuthors.objects.create(first=short, second=full)
    response = act(editor_client, "merge", short, full)
    assert messages_of(response) == [
        "Not merged: Slamon D. and Slamon D. J. are marked as different people; "
        "if they are one person after all, delete that mark first."
    ]


def test_only_those_who_may_change_and_delete_authors_merge(curator_client, pair):
    short, full, _ = pair
    actions = curator_client.get(CHANGELIST).context["action_form"]
    assert "merge" not in dict(actions.fields["action"].choices)
    assert "mark_different_people" in dict(actions.fields["action"].choices)
    for ask in (
        lambda: curator_client.get(merge_page(short, full)),
        lambda: curator_client.post(merge_page(short, full), {"kept": full.pk}),
    ):
        response = ask()
        assert response.status_code == 302
        assert response["Location"] == CHANGELIST
        assert said(curator_client, response) == [
            "You may not merge authors: it takes the permissions to change and "
            "delete authors (the Editors group has them)."
        ]
    assert Author.objects.filter(pk=short.pk).exists()


def test_a_user_who_may_not_see_authors_gets_no_merge_page(nobody, pair):
    from tests.conftest import staff_client

    short, full, _ = pair
    response = staff_client(nobody).get(merge_page(short, full))
    assert response.status_code == 403


# --- Different people -------------------------------------------------------------


def test_marking_a_pair_different_opens_the_mark_filled_in(curator_client, pair):
    short, full, _ = pair
    response = act(curator_client, "mark_different_people", short, full)
    assert response.status_code == 302
    add = reverse("admin:references_distinctauthors_add")
    assert response["Location"] == f"{add}?first={short.pk}&second={full.pk}"
    page = curator_client.get(response["Location"])
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert (form["first"].value(), form["second"].value()) == (
        str(short.pk),
        str(full.pk),
    )
    saved = curator_client.post(
        add,
        {
            "first": short.pk,
            "second": full.pk,
            "note": "a cardiologist and an oncologist",
            "change_reason": "",
            "edit_token": "",
        },
    )
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    mark = DistinctAuthors.objects.get()
    assert (mark.first, mark.second) == (short, full)
    assert mark.history.get().history_user.username == "curator"


def test_a_pair_marked_already_is_refused_either_way_round(curator_client, pair):
    short, full, _ = pair
    DistinctAuthors.objects.create(first=full, second=short)
    response = act(curator_client, "mark_different_people", short, full)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    [message] = messages_of(response)
    assert message.startswith("Slamon D. and Slamon D. J. are already <a href=")
    add = reverse("admin:references_distinctauthors_add")
    refused = curator_client.post(add, {"first": short.pk, "second": full.pk})
    assert refused.status_code == 200
    assert "already marked as different people" in refused.content.decode()


def test_marking_needs_exactly_two_authors(curator_client, pair):
    short, full, both = pair
    third = both.authors.get(family_name="Press")
    for selected in ([short], [short, full, third]):
        response = act(curator_client, "mark_different_people", *selected)
        assert said(curator_client, response) == [
            "Select exactly two authors to mark as different people."
        ]
    assert not DistinctAuthors.objects.exists()
