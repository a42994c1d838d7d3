"""?search= across names, aliases, abbreviations, identifiers, titles,
abstracts and statements: the search documents (her2db/search_index.py),
FTS5 on SQLite and tsvector on PostgreSQL, with one query syntax
(her2db/api/search.py). Every test here runs on both engines."""

import pytest

from tests.api_clients import keys
from tests.conftest import make_agent, make_citation, make_mechanism

pytestmark = pytest.mark.django_db


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
    assert keys(anon.get("/api/v1/evidence/?search=PIK3CA xenograft"), "level") == []


def test_evidence_is_found_by_its_agents_mechanism_and_cited_titles(anon, world):
    # Lapatinib is only an agent of the PI3K claim; "pathway" only the name
    # of its mechanism and the title of its citation.
    assert keys(anon.get("/api/v1/evidence/?search=lapatinib"), "level") == ["D"]
    assert keys(anon.get("/api/v1/evidence/?search=pi3k pathway"), "level") == ["D"]
    assert keys(anon.get("/api/v1/evidence/?search=anti-HER2"), "level") == ["B"]


def test_search_combines_with_filters_and_counts(anon, world):
    response = anon.get("/api/v1/citations/?search=p95HER2&year_max=2000")
    assert response.json()["count"] == 0
    response = anon.get("/api/v1/agents/?search=lapatinib&modality=OTHER")
    assert response.json()["count"] == 0


def test_a_title_hit_outranks_an_abstract_hit(anon, db):
    make_citation(
        citekey="Abstract2020",
        title="Outcomes in early disease",
        abstract="Among the agents, neratinib was given to a few and "
        "neratinib was stopped early.",
    )
    make_citation(citekey="Title2020", title="Neratinib after trastuzumab")
    make_citation(citekey="Neither2020", title="Something else")
    assert keys(anon.get("/api/v1/citations/?search=neratinib"), "citekey") == [
        "Title2020",
        "Abstract2020",
    ]


def test_equal_ranks_keep_the_model_order(anon, db):
    for citekey in ["Zed2020", "Alpha2020", "Mid2020"]:
        make_citation(citekey=citekey, title="Tucatinib in brain metastases")
    response = anon.get("/api/v1/citations/?search=tucatinib&page_size=2")
    assert response.json()["count"] == 3
    assert keys(response, "citekey") == ["Alpha2020", "Mid2020"]
    assert keys(anon.get(response.json()["next"]), "citekey") == ["Zed2020"]


def test_a_phrase_matches_words_together_and_in_order(anon, db):
    make_citation(citekey="Together2020", title="Cell line models of resistance")
    make_citation(citekey="Apart2020", title="A line of cell models")
    search = "/api/v1/citations/?search="
    assert keys(anon.get(search + '"cell line"'), "citekey") == ["Together2020"]
    assert sorted(keys(anon.get(search + "cell line"), "citekey")) == [
        "Apart2020",
        "Together2020",
    ]
    # An unclosed quote runs to the end.
    assert keys(anon.get(search + '"cell line'), "citekey") == ["Together2020"]


def test_a_leading_minus_excludes(anon, db):
    make_citation(citekey="Xeno2020", title="Neratinib in xenograft models")
    make_citation(citekey="Cells2020", title="Neratinib in cell line models")
    search = "/api/v1/citations/?search="
    assert keys(anon.get(search + "neratinib -xenograft"), "citekey") == ["Cells2020"]
    assert keys(anon.get(search + 'neratinib -"cell line"'), "citekey") == ["Xeno2020"]
    # A minus alone, or inside a word, is no exclusion.
    assert len(keys(anon.get(search + "neratinib - xenograft"), "citekey")) == 1
    make_citation(citekey="Hyphen2020", title="HER-2 testing")
    assert keys(anon.get(search + "HER-2"), "citekey") == ["Hyphen2020"]


def test_words_match_as_prefixes_and_stems_but_phrases_whole(anon, db):
    make_agent(
        name="tucatinib",
        slug="tucatinib",
        mechanism_of_action="Unlike trastuzumab, a small molecule.",
    )
    make_agent(name="trastuzumab", slug="trastuzumab")
    # The agent named so first; the one only mentioning it in its text after.
    assert keys(anon.get("/api/v1/agents/?search=trastuzumab"), "slug") == [
        "trastuzumab",
        "tucatinib",
    ]
    assert keys(anon.get("/api/v1/agents/?search=trastuz"), "slug") == [
        "trastuzumab",
        "tucatinib",
    ]
    assert keys(anon.get('/api/v1/agents/?search="trastuz"'), "slug") == []
    # Stemming: "resisting" finds "resistance".
    make_mechanism(slug="r", name="Resistance by efflux")
    assert keys(anon.get("/api/v1/mechanisms/?search=resisting"), "slug") == ["r"]
    # Very common words are ignored outside quotes.
    assert keys(anon.get("/api/v1/mechanisms/?search=the efflux"), "slug") == ["r"]


NASTY = [
    "&|!():*",
    "'",
    "\\",
    '"',
    '""',
    '"""',
    "-",
    "--",
    "- -",
    '-"',
    "a" * 200,
    "🙂",
    "-- drop",
    "NOT",
    "AND OR NOT",
    "trastuzumab OR",
    "NEAR(a b)",
    "col:value",
    "^start",
    "x*",
    "*",
    "'; DROP TABLE x; --",
    "a:*",
    "!a",
    "<->",
    "a <-> b",
    "(a",
    "a)",
    "{}[]",
    "%",
    "_",
    "\u200b",
    "é",
    "trastuzumab -",
    '-"',
    'trastuzumab "',
    " ".join(["word"] * 17),
    "x" * 101,
    "the of and",
    "-trastuzumab",
]


@pytest.mark.parametrize("text", NASTY)
def test_odd_queries_answer_results_or_a_400_never_an_error(anon, world, text):
    for resource in ["evidence", "citations", "agents", "targets", "trials"]:
        response = anon.get(f"/api/v1/{resource}/", {"search": text})
        assert response.status_code in (200, 400), (resource, text)
        if response.status_code == 400:
            assert response.json()["search"][0], text


def test_a_query_with_nothing_to_look_for_finds_nothing(anon, world):
    """Any text the schema allows is a valid question (a 400 would break the
    schema's promise); one with nothing to look for has no answer."""
    for nothing in ["-trastuzumab", "&|!", "the of and", "x" * 150]:
        response = anon.get("/api/v1/evidence/", {"search": nothing})
        assert response.status_code == 200, nothing
        assert response.json()["count"] == 0, nothing
    for empty in ["", "   "]:
        response = anon.get("/api/v1/evidence/", {"search": empty})
        assert response.json()["count"] == 2  # no search: every public claim


def test_search_list_query_count_is_flat(anon, db, django_assert_num_queries):
    for i in range(12):
        make_citation(title=f"Pertuzumab study {i}", authors=2)
    # 1 data version, 1 count, 1 page of citations, 1 authors of the page
    with django_assert_num_queries(4):
        response = anon.get("/api/v1/citations/?search=pertuzumab&page_size=5")
    assert response.json()["count"] == 12


def test_the_schema_documents_the_search_syntax(anon):
    schema = anon.get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/evidence/"]["get"]["parameters"]
    (search,) = [p for p in parameters if p["name"] == "search"]
    for told in ["Every word must match", "double quotes", "leading minus"]:
        assert told in search["description"]
