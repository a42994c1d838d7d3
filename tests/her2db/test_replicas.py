"""Reads on replicas, writes and a writer's next reads on the primary.

In tests each replica alias is a mirror of the test database (TEST MIRROR):
another connection to the same database, so these tests commit what they
write (transaction=True) and look at which connection ran each query. The
last test talks to the real streaming replica that .ci/run starts.
"""

import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.api_clients import current, token_client

REPLICAS = [alias for alias in settings.DATABASES if alias != "default"]

needs_replica = pytest.mark.skipif(
    not settings.DATABASE_REPLICA_URLS,
    reason="DATABASE_REPLICA_URLS is not set (.ci/run sets it for PostgreSQL, "
    "with a replica started by .ci/replica)",
)


def queries_by_alias(client, method: str, url: str, **kwargs):
    """The response, and how many queries each alias ran for it."""
    aliases = ["default", *REPLICAS]
    contexts = [CaptureQueriesContext(connections[alias]) for alias in aliases]
    for context in contexts:
        context.__enter__()
    try:
        response = getattr(client, method)(url, **kwargs)
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)
    return response, {a: len(c) for a, c in zip(aliases, contexts, strict=True)}


def test_replica_urls_add_mirrored_aliases_and_the_router():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/her2db",
        "DATABASE_REPLICA_URLS": "postgres://postgres@127.0.0.1:5433/her2db, "
        "postgres://postgres@127.0.0.1:5434/her2db",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(sorted(s.DATABASES), s.DATABASES['replica2']['PORT'], "
        "s.DATABASES['replica1']['TEST']['MIRROR'], s.DATABASE_ROUTERS)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert done.stdout.split("\n")[0] == (
        "['default', 'replica1', 'replica2'] 5434 default "
        "['her2db.replicas.ReplicaRouter']"
    ), done.stderr


@needs_replica
@pytest.mark.replicas
@pytest.mark.django_db(transaction=True, databases=["default", *REPLICAS])
def test_an_anonymous_read_runs_on_a_replica(anon):
    agent = factories.make_agent()
    response, ran = queries_by_alias(anon, "get", f"/api/v1/agents/{agent.slug}/")
    assert response.status_code == 200
    assert ran["default"] == 0
    assert sum(ran[alias] for alias in REPLICAS) > 0


@needs_replica
@pytest.mark.replicas
@pytest.mark.django_db(transaction=True, databases=["default", *REPLICAS])
def test_a_writer_reads_its_writes_on_the_primary(curator):
    api = token_client(curator)
    agent = factories.make_agent(abbreviation="OLD")
    url = f"/api/v1/agents/{agent.slug}/"
    # Before writing, the curator's reads (but credentials) go to a replica.
    response, ran = queries_by_alias(api, "get", url)
    assert sum(ran[alias] for alias in REPLICAS) > 0
    headers = current(api, url)
    response, ran = queries_by_alias(
        api, "patch", url, data={"abbreviation": "NEW"}, format="json", **headers
    )
    assert response.status_code == 200, response.content
    assert sum(ran[alias] for alias in REPLICAS) == 0
    # Right after: the primary, so the change is there whatever the lag.
    response, ran = queries_by_alias(api, "get", url)
    assert response.json()["abbreviation"] == "NEW"
    assert sum(ran[alias] for alias in REPLICAS) == 0
    # Another reader still reads a replica.
    reader = token_client(User.objects.create_user("reader"))
    response, ran = queries_by_alias(reader, "get", url)
    assert sum(ran[alias] for alias in REPLICAS) > 0


@needs_replica
@pytest.mark.replicas
@pytest.mark.django_db(transaction=True, databases=["default", *REPLICAS])
def test_the_pin_to_the_primary_ends(curator, settings):
    settings.REPLICA_PIN_SECONDS = 1
    api = token_client(curator)
    agent = factories.make_agent()
    url = f"/api/v1/agents/{agent.slug}/"
    api.patch(url, {"abbreviation": "X"}, format="json", **current(api, url))
    assert sum(queries_by_alias(api, "get", url)[1][a] for a in REPLICAS) == 0
    time.sleep(1.5)
    assert sum(queries_by_alias(api, "get", url)[1][a] for a in REPLICAS) > 0


@needs_replica
@pytest.mark.django_db(transaction=True)
def test_the_real_replica_streams_what_the_primary_commits(curator):
    """The server at DATABASE_REPLICA_URLS (not a mirror) follows the primary."""
    api = token_client(curator)
    response = api.post(
        "/api/v1/targets/", {"symbol": "STREAM1", "name": "streamed"}, format="json"
    )
    assert response.status_code == 201, response.content
    address = psycopg.conninfo.conninfo_to_dict(settings.DATABASE_REPLICA_URLS[0])
    address["dbname"] = connections["default"].settings_dict["NAME"]
    with psycopg.connect(**address, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        found = []
        for _ in range(50):  # replication lag: a few ms usually, 5 s at most
            found = conn.execute(
                "SELECT name FROM therapies_target WHERE symbol = 'STREAM1'"
            ).fetchall()
            if found:
                break
            time.sleep(0.1)
    assert found == [("streamed",)]
