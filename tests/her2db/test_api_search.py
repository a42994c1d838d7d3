"""?search= across names, aliases, abbreviations, identifiers, titles and
statements: full text on PostgreSQL, a LIKE fallback on SQLite; the same
answers on both for whole words and identifiers."""

import pytest
from django.db import connection

from references.models import Citation
from tests.api_clients import keys
from tests.conftest import make_agent, make_citation, make_mechanism
from therapies.models import Agent, Evidence, Mechanism, Target, Trial

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
)


@pytest.mark.parametrize(
    "resource,text,key,expected",
    [
        ("agents", "trastuzumab", "slug", ["trastuzumab"]),
        ("agents", "Herceptin", "slug", ["trastuzumab"]),  # an alias
        ("agents", "herceptin", "slug", ["trastuzumab"]),
        ("targets", "HER2", "symbol", ["ERBB2"]),  # an alias
        ("targets", "erbb2", "symbol", ["ERBB2"]),
        ("targets", "phosphatidylinositol", "symbol", ["PIK3CA"]),
        ("mechanisms", "p95HER2", "slug", ["p95her2"]),
        ("mechanisms", "pathway", "slug", ["pi3k"]),
        ("trials", "NCT00004067", "nct_id", ["NCT00004067"]),
        ("trials", "B-31", "nct_id", ["NCT00004067"]),
        ("citations", "10.1093/jnci/djk003", "citekey", ["Scaltriti2007"]),
        ("citations", "17264300", "citekey", ["Scaltriti2007"]),
        ("citations", "Scaltriti", "citekey", ["Scaltriti2007"]),  # an author
        ("citations", "p95HER2 response", "citekey", ["Scaltriti2007"]),
        (
            "evidence",
            "sensitivity",
            "statement",
            ["PIK3CA mutation reduces sensitivity to HER2 blockade."],
        ),
        ("evidence", "nothing like this", "statement", []),
    ],
)
def test_search_finds_by_names_aliases_identifiers_and_text(
    anon, world, resource, text, key, expected
):
    response = anon.get(f"/api/v1/{resource}/", {"search": text})
    assert keys(response, key) == expected


def test_search_words_must_all_match(anon, world):
    assert keys(anon.get("/api/v1/evidence/?search=PIK3CA sensitivity"), "level") == [
        "D"
    ]
    assert keys(anon.get("/api/v1/evidence/?search=PIK3CA trastuzumab"), "level") == []


def test_search_combines_with_filters_and_counts(anon, world):
    response = anon.get("/api/v1/citations/?search=p95HER2&year_max=2000")
    assert response.json()["count"] == 0
    response = anon.get("/api/v1/agents/?search=lapatinib&modality=OTHER")
    assert response.json()["count"] == 0


def test_search_of_empty_or_odd_text_is_harmless(anon, world):
    for text in ["", "   ", "&|!():*", "'", "\\", "a" * 200, "🙂", "-- drop"]:
        response = anon.get("/api/v1/evidence/", {"search": text})
        assert response.status_code == 200, text


@postgres_only
def test_prefixes_match_and_better_matches_come_first(anon, world):
    make_agent(
        name="tucatinib",
        slug="tucatinib",
        mechanism_of_action="Unlike trastuzumab, a small molecule.",
    )
    # The agent named so first; the one only mentioning it in its text after.
    assert keys(anon.get("/api/v1/agents/?search=trastuzumab"), "slug") == [
        "trastuzumab",
        "tucatinib",
    ]
    assert keys(anon.get("/api/v1/agents/?search=trastuz"), "slug") == [
        "trastuzumab",
        "tucatinib",
    ]
    # Stemming: "resisting" finds "resistance".
    make_mechanism(slug="r", name="Resistance by efflux")
    assert keys(anon.get("/api/v1/mechanisms/?search=resisting"), "slug") == ["r"]


@postgres_only
def test_search_uses_the_gin_indexes(world):
    from her2db.api.search import search
    from her2db.registry import registry

    cases = [
        (Agent, ["therapies_agent_search", "agentalias_search"]),
        (Target, ["therapies_target_search"]),
        (Mechanism, ["therapies_mechanism_search"]),
        (Trial, ["therapies_trial_search"]),
        (Evidence, ["therapies_evidence_search"]),
        (Citation, ["references_citation_search", "references_author_search"]),
    ]
    with connection.cursor() as cursor:
        # Tiny tables would be scanned anyway; this asks whether the index can be.
        cursor.execute("SET LOCAL enable_seqscan = off")
    for model, indexes in cases:
        resource = registry.get(model)
        queryset = search(
            model.objects.all(),
            "trastuzumab resistance",
            resource.search,
            resource.search_related,
        )
        plan = queryset.explain()
        for index in indexes:
            assert index in plan, (model.__name__, plan)


def test_sqlite_fallback_matches_substrings_case_insensitively(anon, world):
    if connection.vendor == "postgresql":
        pytest.skip("the fallback is for SQLite")
    make_citation(citekey="Lower2020", title="Trastuzumab EMTANSINE in practice")
    assert keys(anon.get("/api/v1/citations/?search=emtans"), "citekey") == [
        "Lower2020"
    ]
