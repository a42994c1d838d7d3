"""dumpdata (natural keys) -> empty database -> loaddata -> dumpdata is identical."""

import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from references.models import Author, Citation, CitationAuthor, DistinctAuthors
from tests import factories
from therapies.models import Agent, Evidence, Mechanism, Target, Trial

pytestmark = pytest.mark.django_db


def build_everything():
    agent = factories.make_agent(targets=2, brand="Brandname")
    factories.make_approval(agent=agent)
    citation = factories.make_citation(
        authors=3, pmid="22149875", doi="10.1056/nejmoa1113216"
    )
    first, second = citation.ordered_authors()[:2]
    DistinctAuthors.objects.create(first=first, second=second, note="two labs")
    root = factories.make_mechanism(genes=1)
    factories.make_evidence(
        agents=[agent, factories.make_agent()],
        mechanism=factories.make_mechanism(parent=root, genes=2),
        citations=[citation, factories.make_citation()],
        trials=[factories.make_trial(arms=2, publications=[citation])],
    )


def wipe():
    # Children first: what evidence uses is protected.
    Evidence.objects.all().delete()
    Trial.objects.all().delete()
    Agent.objects.all().delete()
    Mechanism.objects.filter(parent__isnull=False).delete()
    Mechanism.objects.all().delete()
    Target.objects.all().delete()
    Citation.objects.all().delete()
    Author.objects.all().delete()


def read(directory):
    return {p.name: p.read_text() for p in sorted(directory.glob("*.json"))}


def test_dump_load_dump_is_identical(tmp_path):
    build_everything()
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("dump_curated", dir=first, verbosity=0)
    wipe()
    assert not Citation.objects.exists()
    call_command("load_curated", dir=first, verbosity=0)
    call_command("dump_curated", dir=second, verbosity=0)
    assert read(first) == read(second)
    assert Evidence.objects.get().agents.count() == 2
    assert DistinctAuthors.objects.get().note == "two labs"


def test_loading_twice_duplicates_nothing(tmp_path):
    build_everything()
    call_command("dump_curated", dir=tmp_path, verbosity=0)
    models = (Citation, Author, DistinctAuthors, Agent, Trial, Evidence)
    counts = {m: m.objects.count() for m in models}
    call_command("load_curated", dir=tmp_path, verbosity=0)
    call_command("load_curated", dir=tmp_path, verbosity=0)
    assert {m: m.objects.count() for m in counts} == counts


def test_loading_an_approved_agent_without_an_approval_is_refused(tmp_path):
    build_everything()
    factories.make_agent(  # saved around the rules, as an old database may hold
        slug="docetaxel", name="docetaxel", development_status=Agent.Status.APPROVED
    )
    call_command("dump_curated", dir=tmp_path, verbosity=0)
    wipe()
    message = "agent docetaxel: marked approved, with no approval on record"
    with pytest.raises(CommandError, match=f"{message}; nothing was loaded"):
        call_command("load_curated", dir=tmp_path, verbosity=0)
    assert not Agent.objects.exists()


def test_shipped_fixtures_load_and_get_first_history(shipped_data):
    # shipped_data loaded them with load_curated into the empty database.
    assert Agent.objects.exists() and Trial.objects.exists()
    agent = Agent.objects.first()
    assert agent.history.count() == 1
    call_command("load_curated", verbosity=0)
    assert agent.history.count() == 1


def selects_of_a_load(directory, citations: int) -> Counter:
    """SELECTs by table while load_curated loads a dump holding `citations`
    more citations (five authors each) than build_everything makes."""
    build_everything()
    for _ in range(citations):
        factories.make_citation(authors=5)
    call_command("dump_curated", dir=directory, verbosity=0)
    wipe()
    with CaptureQueriesContext(connection) as queries:
        call_command("load_curated", dir=directory, verbosity=0)
    # (On PostgreSQL loaddata also resets each table's sequence: setval.)
    return Counter(
        re.search(r'FROM "(\w+)"', q["sql"])[1]
        for q in queries
        if q["sql"].startswith("SELECT") and "setval" not in q["sql"]
    )


def test_loading_reads_each_table_a_fixed_number_of_times_not_each_row(tmp_path):
    # Rows are found by natural key in memory (therapies/curated.py), not by
    # a query for each row and for each of its foreign keys.
    few = selects_of_a_load(tmp_path / "few", citations=1)
    loaded = Citation.objects.count(), CitationAuthor.objects.count()
    wipe()
    many = selects_of_a_load(tmp_path / "many", citations=4)
    assert (Citation.objects.count(), CitationAuthor.objects.count()) == (
        loaded[0] + 3,
        loaded[1] + 15,
    )
    assert few == many
    assert few["references_citationauthor"] == 1
    assert max(few.values()) <= 3, few  # a look-up, and the links' snapshot


def test_a_time_under_a_millisecond_past_the_second_survives_the_round_trip(
    tmp_path,
):
    factories.make_citation()
    agent = factories.make_agent()
    moment = agent.created_at.replace(microsecond=500)
    Agent.objects.filter(pk=agent.pk).update(created_at=moment, updated_at=moment)
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("dump_curated", dir=first, verbosity=0)
    wipe()
    call_command("load_curated", dir=first, verbosity=0)
    call_command("dump_curated", dir=second, verbosity=0)
    assert read(first) == read(second)
