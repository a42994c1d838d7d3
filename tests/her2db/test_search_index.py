"""Search indexes derived from the registry (PostgreSQL only)."""

import pytest
from django.db import connection

from her2db.search_index import digest, sync_search_indexes, wanted_indexes

pytestmark = pytest.mark.django_db


def comments() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "WHERE c.relkind = 'i' AND c.relname LIKE '%%\\_search'"
        )
        return dict(cursor.fetchall())


def test_every_declared_search_has_its_index():
    wanted = wanted_indexes()
    assert {"therapies_agent_search", "therapies_agentalias_search"} <= set(wanted)
    assert {"references_citation_search", "references_author_search"} <= set(wanted)
    if connection.vendor != "postgresql":
        assert sync_search_indexes() == []
        return
    found = comments()
    for name, (_, expression) in wanted.items():
        assert found.get(name) == digest(expression), name
    assert sync_search_indexes() == []  # in step: nothing to build


def test_a_missing_or_outdated_index_is_rebuilt_and_a_stale_one_dropped():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no search indexes")
    with connection.cursor() as cursor:
        cursor.execute('DROP INDEX "therapies_trial_search"')
        cursor.execute(
            "COMMENT ON INDEX \"therapies_agent_search\" IS 'her2db search index 0'"
        )
        cursor.execute(
            'CREATE INDEX "therapies_trial_old_search" ON "therapies_trial" (nct_id)'
        )
        cursor.execute(
            "COMMENT ON INDEX \"therapies_trial_old_search\" IS 'her2db search index 1'"
        )
    built = sync_search_indexes()
    assert sorted(built) == ["therapies_agent_search", "therapies_trial_search"]
    found = comments()
    assert "therapies_trial_old_search" not in found
    assert found["therapies_trial_search"] == digest(
        wanted_indexes()["therapies_trial_search"][1]
    )
