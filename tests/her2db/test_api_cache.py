"""Repeat reads for free: the data version, kept answers, 304s, Cache-Control.

A kept answer is never served after a write, whatever wrote: each test of a
write path reads anonymously first (so the answer is kept), writes by that
path, and reads again.
"""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.generics import GenericAPIView

from her2db import data_version
from her2db.api import reads
from references.importers.sql import insert_rows
from tests import factories
from tests.api_clients import current, keys
from tests.importers import DATA, run
from tests.therapies.admin_pages import form_data
from therapies.models import Agent, ChangeEntry, Evidence, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """The views that built a representation (asked for a serializer, or read
    a list as values)."""
    calls = []
    original = GenericAPIView.get_serializer
    represent = reads.Plan.represent

    def counting(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    def counting_plans(plan, rows, request):
        calls.append(type(request.parser_context["view"]).__name__)
        return represent(plan, rows, request)

    monkeypatch.setattr(GenericAPIView, "get_serializer", counting)
    monkeypatch.setattr(reads.Plan, "represent", counting_plans)
    return calls


def agent_url(agent) -> str:
    return f"/api/v1/agents/{agent.slug}/"


def read(client, url: str, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return response


# --- The data version --------------------------------------------------------------


def triggered_tables() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE t.tgname = %s",
                [data_version.TRIGGER],
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE %s",
                [f"{data_version.TRIGGER}_%"],
            )
        return {name for (name,) in cursor.fetchall()}


def test_every_table_of_readable_data_advances_the_version():
    tables = data_version.watched_tables()
    for table in ("therapies_agent", "therapies_evidenceagent", "auth_user_groups"):
        assert table in tables
    assert set(tables) <= triggered_tables()
    # Installing again (every migrate does) changes nothing.
    assert data_version.install() == []


def test_a_write_advances_the_version_and_a_rolled_back_one_does_not():
    agent = factories.make_agent()
    before = data_version.current()
    agent.abbreviation = "NEW"
    agent.save()
    after = data_version.current()
    assert after > before
    with pytest.raises(RuntimeError), transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(abbreviation="GONE")
        raise RuntimeError
    assert data_version.current() == after


def test_a_migrate_that_applies_a_migration_advances_the_version():
    """A new field changes every answer though no row changes: a migrate
    with a plan advances the version; one with nothing to apply does not."""
    before = data_version.current()
    data_version.install(plan=[])
    assert data_version.current() == before
    data_version.install(plan=[("a migration", False)])
    assert data_version.current() > before


# --- No stale answer after a write, by any path --------------------------------------


def test_an_api_write_makes_the_next_read_fresh(anon, curator_api):
    agent = factories.make_agent(abbreviation="OLD")
    assert read(anon, agent_url(agent)).json()["abbreviation"] == "OLD"
    url = agent_url(agent)
    response = curator_api.patch(
        url, {"abbreviation": "NEW"}, format="json", **current(curator_api, url)
    )
    assert response.status_code == 200, response.content
    assert read(anon, url).json()["abbreviation"] == "NEW"


def test_an_admin_save_makes_the_next_read_fresh(anon, editor_client):
    agent = factories.make_agent(abbreviation="OLD")
    assert read(anon, agent_url(agent)).json()["abbreviation"] == "OLD"
    page = reverse("admin:therapies_agent_change", args=[agent.pk])
    data = form_data(editor_client.get(page)) | {"abbreviation": "ADM"}
    assert editor_client.post(page, data).status_code == 302
    assert read(anon, agent_url(agent)).json()["abbreviation"] == "ADM"


def test_raw_sql_makes_the_next_read_fresh(anon):
    agent = factories.make_agent(abbreviation="OLD")
    assert read(anon, agent_url(agent)).json()["abbreviation"] == "OLD"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE therapies_agent SET abbreviation = 'SQL' WHERE id = %s", [agent.pk]
        )
    assert read(anon, agent_url(agent)).json()["abbreviation"] == "SQL"


def test_the_importers_row_inserts_make_the_next_read_fresh(anon):
    """insert_rows: the importers' hand-written INSERT (references/importers/sql.py)."""
    assert read(anon, "/api/v1/changes/").json()["results"] == []
    entry = ChangeEntry(
        kind="agent",
        identifier="inserted",
        action=ChangeEntry.Action.CREATED,
        changed_at=datetime(2026, 1, 1, tzinfo=UTC),
        fields=[],
    )
    insert_rows(ChangeEntry, [entry], "default")
    assert keys(anon.get("/api/v1/changes/"), "identifier") == ["inserted"]


def test_bulk_create_makes_the_next_read_fresh(anon):
    assert keys(anon.get("/api/v1/targets/"), "symbol") == []
    Target.objects.bulk_create([Target(symbol="BULK1", name="bulk one")])
    assert keys(anon.get("/api/v1/targets/"), "symbol") == ["BULK1"]


def test_an_import_command_makes_the_next_read_fresh(anon):
    assert keys(anon.get("/api/v1/citations/"), "pmid") == []
    run("import_pubmed", DATA / "pubmed_29963580.xml")
    assert keys(anon.get("/api/v1/citations/"), "pmid") == ["29963580"]


def test_loading_a_release_makes_the_next_read_fresh(anon, tmp_path):
    from tests.therapies.test_release import wipe

    factories.make_agent(slug="released-agent")
    run("export_release", tmp_path / "r")
    wipe()
    assert keys(anon.get("/api/v1/agents/"), "slug") == []
    run("import_release", tmp_path / "r")
    assert keys(anon.get("/api/v1/agents/"), "slug") == ["released-agent"]


def test_an_author_merge_in_the_admin_makes_the_next_read_fresh(anon, editor_client):
    citation = factories.make_citation(authors=1)
    short = citation.authors.get()
    full = factories.make_author(family_name=short.family_name, given_name="A. B.")
    url = f"/api/v1/citations/{citation.citekey}/"
    assert read(anon, url).json()["authors"][0]["given_name"] == "A"
    merge = reverse("admin:references_author_merge")
    response = editor_client.post(
        f"{merge}?ids={short.pk},{full.pk}", {"kept": full.pk, "change_reason": ""}
    )
    assert response.status_code == 302
    assert read(anon, url).json()["authors"][0]["given_name"] == "A. B."


def test_a_review_transition_makes_the_next_read_fresh(anon, editor_api):
    claim = factories.make_evidence(status=Evidence.Status.SUBMITTED)
    assert keys(anon.get("/api/v1/evidence/"), "uid") == []
    response = editor_api.post(
        f"/api/v1/evidence/{claim.uid}/transition/", {"action": "accept"}
    )
    assert response.status_code == 200, response.content
    assert keys(anon.get("/api/v1/evidence/"), "uid") == [str(claim.uid)]


# --- Kept answers build nothing ------------------------------------------------------


def test_a_repeat_anonymous_get_builds_nothing(anon, built, settings):
    settings.API_CACHE_MAX_AGE = 60
    factories.make_agent(targets=2)
    first = read(anon, "/api/v1/agents/")
    assert built == ["AgentViewSet"]
    with CaptureQueriesContext(connection) as queries:
        again = read(anon, "/api/v1/agents/")
    assert built == ["AgentViewSet"]
    # Only the data version is read.
    assert [q["sql"] for q in queries] == [
        f"SELECT version FROM {data_version.TABLE} WHERE id = 1"
    ]
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == first["Content-Type"]
    for response in (first, again):
        assert response["Cache-Control"] == "public, max-age=60"
        assert set(response["Vary"].split(", ")) >= {"Accept", "Authorization"}


@pytest.mark.parametrize("persona", ["anon", "curator_api"])
def test_a_conditional_get_is_304_without_building(persona, request, built):
    client = request.getfixturevalue(persona)
    factories.make_agent()
    tag = read(client, "/api/v1/agents/")["ETag"]
    built.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/agents/", HTTP_IF_NONE_MATCH=tag)
    assert (response.status_code, response["ETag"], built) == (304, tag, [])
    assert sum(data_version.TABLE in q["sql"] for q in queries) == 1
    # A write: the same If-None-Match now gets the new representation.
    factories.make_agent()
    response = client.get("/api/v1/agents/", HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert response["ETag"] != tag
    assert built == ["AgentViewSet"]


def test_authenticated_answers_are_private_and_built_each_time(curator_api, built):
    factories.make_agent()
    for _ in range(2):
        response = read(curator_api, "/api/v1/agents/")
        assert response["Cache-Control"] == "private, no-cache"
    assert built == ["AgentViewSet", "AgentViewSet"]


def test_drafts_never_reach_the_anonymous_cache(anon, curator_api, settings):
    accepted = factories.make_evidence()
    draft = factories.make_evidence(status=Evidence.Status.DRAFT)
    url = "/api/v1/evidence/"
    # The curator reads first, then anonymous readers; then the other way.
    assert set(keys(curator_api.get(url), "uid")) == {str(accepted.uid), str(draft.uid)}
    for _ in range(2):
        assert keys(anon.get(url), "uid") == [str(accepted.uid)]
    assert set(keys(curator_api.get(url), "uid")) == {str(accepted.uid), str(draft.uid)}
    assert anon.get(f"/api/v1/evidence/{draft.uid}/").status_code == 404
    assert anon.get(f"/api/v1/evidence/{draft.uid}/").status_code == 404


def test_each_format_is_kept_apart(anon):
    factories.make_citation(citekey="Kept2020")
    url = "/api/v1/citations/Kept2020/"
    first = {
        "json": read(anon, url).content,
        "bibtex": read(anon, url + "?format=bibtex").content,
        "ris": read(anon, url, HTTP_ACCEPT="application/x-research-info-systems"),
    }
    first["ris"] = first["ris"].content
    assert len(set(first.values())) == 3
    assert read(anon, url).content == first["json"]
    assert read(anon, url + "?format=bibtex").content == first["bibtex"]
    ris = read(anon, url, HTTP_ACCEPT="application/x-research-info-systems")
    assert ris.content == first["ris"]
    assert ris["Content-Type"].startswith("application/x-research-info-systems")


def test_the_change_feed_is_kept_and_refreshed(anon, built):
    factories.make_agent(slug="fed")
    assert keys(anon.get("/api/v1/changes/"), "identifier") == ["fed"]
    assert keys(anon.get("/api/v1/changes/"), "identifier") == ["fed"]
    assert built == ["ChangeViewSet"]
    factories.make_agent(slug="fed-again")
    assert len(keys(anon.get("/api/v1/changes/"), "identifier")) == 2


def test_with_the_cache_off_every_answer_is_built(anon, built, settings):
    settings.API_CACHE = False
    settings.API_CACHE_MAX_AGE = 5
    factories.make_agent()
    for _ in range(2):
        response = read(anon, "/api/v1/agents/")
        assert response["Cache-Control"] == "public, max-age=5"
    assert built == ["AgentViewSet", "AgentViewSet"]


def test_errors_are_not_kept(anon):
    assert anon.get("/api/v1/agents/none-such/").status_code == 404
    factories.make_agent(slug="none-such")
    assert anon.get("/api/v1/agents/none-such/").status_code == 200


# --- CACHES from CACHE_URL -----------------------------------------------------------


def cache_backend(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CACHE_URL": url, "DJANGO_SETTINGS_MODULE": "her2db.settings"}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )


def test_cache_url_chooses_redis_or_local_memory():
    assert cache_backend("redis://127.0.0.1:6379/3").stdout.strip() == (
        "django.core.cache.backends.redis.RedisCache"
    )
    assert cache_backend("").stdout.strip() == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    refused = cache_backend("memcached://127.0.0.1:11211")
    assert refused.returncode != 0
    assert "CACHE_URL must be a redis:// URL" in refused.stderr


@pytest.mark.skipif(
    not os.getenv("CACHE_URL", "").startswith("redis://"),
    reason="CACHE_URL names no Redis server (.ci/run sets one)",
)
def test_kept_answers_live_in_redis_when_cache_url_names_it(anon):
    from django.core.cache import caches

    cache = caches["default"]
    assert type(cache).__name__ == "RedisCache"
    factories.make_citation()
    first = read(anon, "/api/v1/citations/")
    redis = cache._cache.get_client()
    assert list(redis.scan_iter("*her2db:answer:*:anon:*"))
    assert read(anon, "/api/v1/citations/").content == first.content
