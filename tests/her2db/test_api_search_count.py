"""An anonymous search's count, taken on PostgreSQL from the search documents
alone (her2db/api/search.py, public_matches): it counts exactly the public
rows that match, on every path that changes what is public, and only where
the reader's rows are the public rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from her2db.api.search import public_matches, search
from her2db.registry import registry
from references.models import Citation
from tests.factories import make_citation, make_evidence, make_outcome, make_trial
from therapies.models import Evidence, Trial

pytestmark = pytest.mark.django_db

Status = Evidence.Status
on_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the count from documents alone"
)


def claims() -> dict[str, Evidence]:
    """A claim about efflux in each status, and one about something else."""
    made = {
        status: make_evidence(statement=f"Drug efflux ({status.label}).", status=status)
        for status in Status
    }
    make_evidence(statement="Lysosomal degradation.", status=Status.ACCEPTED)
    return made


def counted(client, resource: str, text: str) -> int:
    response = client.get(f"/api/v1/{resource}/", {"search": text, "page_size": 1})
    assert response.status_code == 200, response.content
    return response.json()["count"]


def expected(model, text: str) -> int:
    return search(registry.public_rows(model), text).count()


@pytest.mark.parametrize("text", ["efflux", "efflux -draft", '"drug efflux"', "lyso"])
def test_an_anonymous_search_counts_the_public_rows_that_match(anon, text):
    claims()
    assert counted(anon, "evidence", text) == expected(Evidence, text)
    assert counted(anon, "evidence", "efflux") == 1  # the accepted claim only


def test_every_searchable_resource_counts_what_its_pages_hold(anon):
    claims()
    for i in range(3):
        make_citation(title=f"Efflux pumps {i}")
        make_trial(title=f"Efflux inhibitor trial {i}")
    for resource, model in (("citations", Citation), ("trials", Trial)):
        assert counted(anon, resource, "efflux") == expected(model, "efflux") == 3
        pages = anon.get(f"/api/v1/{resource}/", {"search": "efflux", "page_size": 2})
        following = anon.get(pages.json()["next"])
        assert len(pages.json()["results"]) + len(following.json()["results"]) == 3


def test_a_status_change_by_any_path_moves_a_claim_in_or_out(anon):
    made = claims()
    submitted = made[Status.SUBMITTED]
    Evidence.objects.filter(pk=submitted.pk).update(status=Status.ACCEPTED)  # SQL
    assert counted(anon, "evidence", "efflux") == 2
    accepted = made[Status.ACCEPTED]
    accepted.status = Status.RETIRED  # a model save
    accepted.save()
    assert counted(anon, "evidence", "efflux") == 1
    Evidence.objects.filter(pk=submitted.pk).delete()
    assert counted(anon, "evidence", "efflux") == 0
    assert counted(anon, "evidence", "efflux") == expected(Evidence, "efflux")


def test_a_curator_or_a_filter_counts_through_the_records(anon, curator, curator_api):
    claims()
    # A curator sees more than the public rows: the count is theirs.
    mine = counted(curator_api, "evidence", "efflux")
    assert mine == search(Evidence.objects.visible_to(curator), "efflux").count()
    assert mine > counted(anon, "evidence", "efflux")
    filtered = anon.get("/api/v1/evidence/", {"search": "efflux", "level": "A"})
    assert filtered.json()["count"] == 0


@on_postgresql
def test_on_postgresql_the_count_reads_only_the_documents(anon):
    claims()
    with CaptureQueriesContext(connection) as seen:
        assert counted(anon, "evidence", "efflux") == 1
    counts = [q["sql"] for q in seen.captured_queries if "count(" in q["sql"].lower()]
    assert counts == [
        counts[0]  # one count, of the documents, with the public rule kept there
    ]
    assert counts[0].startswith('SELECT count(*) FROM "therapies_evidence_fts"')
    assert '"therapies_evidence".' not in counts[0]


def test_public_matches_answers_only_where_it_can():
    claims()
    if connection.vendor == "postgresql":
        assert public_matches(Evidence, "efflux", "default") == 1
        assert public_matches(Citation, "efflux", "default") == 0
    else:
        assert public_matches(Evidence, "efflux", "default") is None
    assert public_matches(Evidence, "the of", "default") is None  # nothing to find


def test_a_review_through_the_api_keeps_the_count_in_step(anon, editor_api):
    made = claims()
    claim = made[Status.SUBMITTED]
    response = editor_api.post(
        f"/api/v1/evidence/{claim.uid}/transition/", {"action": "accept"}
    )
    assert response.status_code == 200, response.content
    assert counted(anon, "evidence", "efflux") == 2


SEARCHABLE = [r for r in registry if r.search and r.basename]


@pytest.mark.parametrize("resource", SEARCHABLE, ids=lambda r: r.basename)
def test_an_anonymous_reader_is_shown_the_public_rows_that_the_count_counts(
    anon, world, resource
):
    """What makes the count from documents right: an anonymous reader's
    list is the registry's public rows, and for a word of a public row's
    searched columns the documents count what the records' search finds."""
    make_evidence(statement="Drug efflux (a draft).", status=Status.DRAFT)
    make_outcome(population="Hormone receptor-positive subgroup")
    model = resource.model
    url = f"/api/v1/{resource.basename}/"
    assert anon.get(url).json()["count"] == registry.public_rows(model).count()
    row = registry.public_rows(model).order_by("pk").first()
    columns = [column for _, names in resource.search for column in names]
    text = next(
        word
        for column in columns
        for word in str(getattr(row, column) or "").replace("-", " ").split()
        if word.isalpha() and len(word) > 3
    )
    assert counted(anon, resource.basename, text) == expected(model, text) > 0
    found = public_matches(model, text, "default")
    assert found in (None, expected(model, text))
