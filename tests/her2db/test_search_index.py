"""The search documents stay in step with the rows, whatever writes them:
the API, ORM saves as the admin makes them, bulk_create and the importers'
raw SQL, a related row's change, loaddata and release loads. On both
engines."""

import pytest
from django.core.management import call_command
from django.db import connection

from her2db.search_index import (
    digest,
    documents,
    drop_search_triggers,
    sync_search_indexes,
)
from references.importers.sql import insert_rows
from references.merging import merge_authors
from references.models import Author, Citation
from tests.api_clients import current, keys
from tests.conftest import make_citation, make_evidence
from tests.importers import DATA, run
from tests.therapies.test_release import wipe
from therapies.models import Agent, AgentAlias, Evidence, Mechanism

pytestmark = pytest.mark.django_db


def found(client, resource: str, text: str, key: str) -> list:
    response = client.get(f"/api/v1/{resource}/", {"search": text})
    assert response.status_code == 200, response.content
    return keys(response, key)


def test_every_searchable_resource_has_its_document_in_step_with_the_registry():
    names = {d.name for d in documents(connection.vendor)}
    assert names == {
        "references_citation_fts",
        "therapies_agent_fts",
        "therapies_evidence_fts",
        "therapies_mechanism_fts",
        "therapies_outcome_fts",
        "therapies_target_fts",
        "therapies_trial_fts",
    }
    assert sync_search_indexes() == []  # built at migrate: nothing to do
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest FROM her2db_search_state")
        assert cursor.fetchone()[0] == digest(connection.vendor)


def test_a_changed_declaration_rebuilds_and_refills_the_documents(anon):
    make_citation(citekey="Kept2020", title="Margetuximab and CD16A")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE her2db_search_state SET digest = 'outdated'")
        cursor.execute('DELETE FROM "references_citation_fts"')
    assert found(anon, "citations", "margetuximab", "citekey") == []
    assert "references_citation_fts" in sync_search_indexes()
    assert found(anon, "citations", "margetuximab", "citekey") == ["Kept2020"]


def test_api_create_update_and_delete_keep_the_index(anon, curator_api, editor_api):
    response = curator_api.post(
        "/api/v1/citations/",
        {
            "citekey": "Swain2015",
            "title": "Pertuzumab, trastuzumab, and docetaxel",
            "abstract": "Overall survival in the CLEOPATRA trial.",
            "authors": [{"family_name": "Baselga", "given_name": "J"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    url = response.json()["url"]
    assert found(anon, "citations", "cleopatra", "citekey") == ["Swain2015"]
    assert found(anon, "citations", "baselga", "citekey") == ["Swain2015"]
    curator_api.patch(
        url,
        {"title": "Margetuximab versus trastuzumab", "authors": []},
        format="json",
        **current(curator_api, url),
    )
    assert found(anon, "citations", "pertuzumab", "citekey") == []
    assert found(anon, "citations", "baselga", "citekey") == []
    assert found(anon, "citations", "margetuximab", "citekey") == ["Swain2015"]
    assert editor_api.delete(url, **current(editor_api, url)).status_code == 204
    assert found(anon, "citations", "margetuximab", "citekey") == []


def test_orm_saves_as_the_admin_makes_them_keep_the_index(anon):
    citation = make_citation(citekey="Admin2020", title="Zanidatamab")
    citation.title = "Zongertinib"
    citation.save()
    assert found(anon, "citations", "zanidatamab", "citekey") == []
    assert found(anon, "citations", "zongertinib", "citekey") == ["Admin2020"]
    # A queryset update too, and one that changes no searched column.
    Citation.objects.filter(pk=citation.pk).update(journal="Lancet Oncol")
    Citation.objects.filter(pk=citation.pk).update(retracted=True)
    assert found(anon, "citations", "lancet", "citekey") == ["Admin2020"]
    citation.delete()
    assert found(anon, "citations", "zongertinib", "citekey") == []


def test_bulk_create_and_the_importers_raw_sql_keep_the_index(anon):
    Citation.objects.bulk_create(
        [Citation(citekey=f"Bulk{i}2020", title=f"Pyrotinib {i}") for i in range(3)]
    )
    insert_rows(
        Author,
        [Author(family_name="Rawinsert", given_name="A")],
        connection.alias,
    )
    author = Author.objects.get(family_name="Rawinsert")
    Citation.authors.through.objects.bulk_create(
        [
            Citation.authors.through(
                citation=Citation.objects.get(citekey="Bulk12020"),
                author=author,
                position=1,
            )
        ]
    )
    assert sorted(found(anon, "citations", "pyrotinib", "citekey")) == [
        "Bulk02020",
        "Bulk12020",
        "Bulk22020",
    ]
    assert found(anon, "citations", "rawinsert", "citekey") == ["Bulk12020"]


def test_a_pubmed_import_is_searchable_at_once(anon):
    run("import_pubmed", DATA / "pubmed_29963580.xml")
    citekeys = found(anon, "citations", "pulmonary biomarker", "citekey")
    assert len(citekeys) == 1
    assert found(anon, "citations", "capaldi", "citekey") == citekeys


def test_related_changes_change_what_finds_a_record(anon):
    claim = make_evidence(statement="Loss of PTEN.")
    agent = claim.agents.get()
    assert found(anon, "evidence", agent.name, "statement") == ["Loss of PTEN."]
    # Renaming the agent, its mechanism, the title it cites.
    Agent.objects.filter(pk=agent.pk).update(name="ribociclib")
    agent.refresh_from_db()
    agent.name = "alpelisib"
    agent.save()
    assert found(anon, "evidence", "alpelisib", "statement") == ["Loss of PTEN."]
    assert found(anon, "evidence", "ribociclib", "statement") == []
    mechanism = claim.mechanism
    mechanism.name = "Phosphatase loss"
    mechanism.save()
    assert found(anon, "evidence", "phosphatase", "statement") == ["Loss of PTEN."]
    citation = claim.citations.get()
    citation.title = "Everolimus rescue"
    citation.save()
    assert found(anon, "evidence", "everolimus", "statement") == ["Loss of PTEN."]
    # Moving the claim to another mechanism, linking another agent.
    other = Mechanism.objects.create(
        slug="efflux", name="Drug efflux", category=mechanism.category
    )
    Evidence.objects.filter(pk=claim.pk).update(mechanism=other)
    assert found(anon, "evidence", "phosphatase", "statement") == []
    assert found(anon, "evidence", "efflux", "statement") == ["Loss of PTEN."]
    claim.agents.set([Agent.objects.create(name="capivasertib", slug="capi")])
    assert found(anon, "evidence", "alpelisib", "statement") == []
    assert found(anon, "evidence", "capivasertib", "statement") == ["Loss of PTEN."]


def test_aliases_and_authors_follow_their_records(anon):
    claim = make_evidence()
    agent = claim.agents.get()
    alias = AgentAlias.objects.create(agent=agent, alias="Enhertu", kind="BRAND")
    assert found(anon, "agents", "enhertu", "slug") == [agent.slug]
    alias.alias = "Kadcyla"
    alias.save()
    assert found(anon, "agents", "enhertu", "slug") == []
    assert found(anon, "agents", "kadcyla", "slug") == [agent.slug]
    alias.delete()
    assert found(anon, "agents", "kadcyla", "slug") == []
    citation = make_citation(authors=1)
    author = citation.authors.get()
    author.family_name = "Modi"
    author.save()
    assert found(anon, "citations", "modi", "citekey") == [citation.citekey]


def test_a_merge_of_authors_changes_what_finds_their_citations(anon):
    smith, smyth = make_citation(authors=1), make_citation(authors=1)
    Author.objects.filter(pk=smith.authors.get().pk).update(family_name="Smith")
    Author.objects.filter(pk=smyth.authors.get().pk).update(family_name="Smyth")
    assert found(anon, "citations", "smith", "citekey") == [smith.citekey]
    merge_authors(smyth.authors.get(), [smith.authors.get()])
    assert found(anon, "citations", "smith", "citekey") == []
    assert sorted(found(anon, "citations", "smyth", "citekey")) == sorted(
        [smith.citekey, smyth.citekey]
    )


def test_the_curated_data_is_searchable_after_load_curated(anon):
    call_command("load_curated", verbosity=0)
    assert found(anon, "citations", "Scaltriti", "citekey")
    assert found(anon, "agents", "Herceptin", "slug") == ["trastuzumab"]
    assert found(anon, "evidence", "p95HER2", "uid")
    with connection.cursor() as cursor:
        for document in documents(connection.vendor):
            cursor.execute(f'SELECT COUNT(*) FROM "{document.name}"')
            (count,) = cursor.fetchone()
            assert count == document.model.objects.count(), document.name


def test_a_release_load_is_searchable(anon, tmp_path):
    call_command("load_curated", verbosity=0)
    run("export_release", tmp_path / "r", date="2026-01-02")
    wipe()
    assert found(anon, "citations", "Scaltriti", "citekey") == []
    run("import_release", tmp_path / "r")
    assert found(anon, "citations", "Scaltriti", "citekey")
    assert found(anon, "agents", "Herceptin", "slug") == ["trastuzumab"]


def test_search_reads_the_document_index():
    from her2db.api.search import search

    for document in documents(connection.vendor):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Tiny tables would be scanned anyway; can the index serve?
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
        queryset = search(document.model.objects.all(), "trastuzumab resistance")
        plan = queryset.explain()
        if connection.vendor == "postgresql":
            assert f"{document.name}_vector" in plan, plan
        else:
            assert "VIRTUAL TABLE INDEX" in plan and document.name in plan, plan


def test_a_migrate_rebuilds_what_it_may_have_dropped(anon):
    make_citation(citekey="Kept2021", title="Disitamab vedotin")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What an earlier version built: an expression index, marked so.
            cursor.execute(
                'CREATE INDEX "references_citation_search" ON "references_citation" '
                "(title)"
            )
            cursor.execute(
                'COMMENT ON INDEX "references_citation_search" IS '
                "'her2db search index 0'"
            )
    drop_search_triggers(plan=[("a migration", False)])
    make_citation(citekey="Unseen2021", title="Disitamab")
    assert found(anon, "citations", "disitamab", "citekey") == ["Kept2021"]
    sync_search_indexes(plan=[("a migration", False)])
    assert sorted(found(anon, "citations", "disitamab", "citekey")) == [
        "Kept2021",
        "Unseen2021",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('references_citation_search')")
            assert cursor.fetchone() == (None,)
