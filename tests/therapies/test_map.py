"""The resistance map: what each cell counts and how it is coloured, who sees
which claims, the filters, folding, the JSON and its schema, the SVG download,
and a fixed number of queries on every page that draws it."""

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from therapies.map import build_map
from therapies.models import Agent, Evidence, Mechanism

pytestmark = pytest.mark.django_db

E = Evidence.Effect
SVG = "{http://www.w3.org/2000/svg}"


def claim(agent, mechanism, effect=E.CONFERS_RESISTANCE, **kw):
    return factories.make_evidence(
        agents=[agent] if isinstance(agent, Agent) else agent,
        mechanism=mechanism,
        effect=effect,
        **kw,
    )


@pytest.fixture
def cell():
    """One agent, one mechanism, and a claim of every kind about them."""
    agent = factories.make_agent(name="trastuzumab", slug="trastuzumab")
    mechanism = factories.make_mechanism(slug="pten-loss", name="PTEN loss")
    claim(agent, mechanism, E.CONFERS_RESISTANCE, level="D")
    claim(agent, mechanism, E.REDUCES_SENSITIVITY, level="B")
    claim(agent, mechanism, E.OVERCOMES_RESISTANCE, level="E")
    # Not supported, and no effect: counted apart, as "other".
    claim(agent, mechanism, E.CONFERS_RESISTANCE, direction="DOES_NOT_SUPPORT")
    claim(agent, mechanism, E.NO_EFFECT, level="C")
    # Never on the public map.
    claim(agent, mechanism, E.OVERCOMES_RESISTANCE, level="A", status="SUBMITTED")
    claim(agent, mechanism, E.OVERCOMES_RESISTANCE, level="A", status="DRAFT")
    return agent, mechanism


def test_a_cell_counts_resistance_against_overcoming_coloured_by_strongest_level(
    anon, cell
):
    data = anon.get("/api/v1/map/").json()
    assert data["cells"] == [
        {
            "agent": "trastuzumab",
            "mechanism": "pten-loss",
            "resistance": 2,
            "overcomes": 1,
            "other": 2,
            "claims": 5,
            "strongest_level": "B",
            "evidence": "http://testserver/api/v1/evidence/?agent=trastuzumab"
            "&mechanism_exact=pten-loss&status=ACCEPTED",
        }
    ]
    # The SVG cell shows 2 | 1, +2, in level B's colour.
    page = anon.get("/map/").content.decode()
    assert '<a href="http://testserver/api/v1/evidence/?agent=trastuzumab&amp;' in page
    assert "2 say it confers or reduces resistance, 1 that it is overcome, 2 other" in (
        page
    )
    assert "strongest level B" in page
    assert 'fill="#2171b5"' in page  # B


def test_a_combination_counts_under_each_agent_and_unused_rows_fold():
    a, b, unused = (factories.make_agent() for _ in range(3))
    mechanism, empty = factories.make_mechanism(), factories.make_mechanism()
    claim([a, b], mechanism, level="C")
    found = build_map()
    assert [agent.pk for agent in found.agents] == sorted([a.pk, b.pk])
    assert [row.mechanism for row in found.rows] == [mechanism]
    assert unused in found.folded_agents and empty in found.folded_mechanisms
    assert {key: c.resistance for key, c in found.cells.items()} == {
        (a.pk, mechanism.pk): 1,
        (b.pk, mechanism.pk): 1,
    }


def test_anonymous_readers_see_accepted_claims_only(anon, cell, client):
    data = anon.get("/api/v1/map/").json()
    assert data["cells"][0]["claims"] == 5
    assert data["filters"]["unpublished"] is False
    page = client.get("/map/").content.decode()
    assert "Open the 5 claim(s)" in page
    assert "strongest level A" not in page
    svg = client.get("/map/map.svg").content.decode()
    assert "Open the 5 claim(s)" in svg


def test_nobody_outside_the_admin_may_ask_for_unpublished_claims(
    anon, nobody_api, client, cell
):
    for api in (anon, nobody_api):
        response = api.get("/api/v1/map/?unpublished=true")
        assert response.status_code == 403
        assert response.json() == {"detail": "You may not see unpublished claims."}
    response = client.get("/map/?unpublished=true")
    assert response.status_code == 400
    assert b"The public map counts accepted claims only" in response.content


def test_curators_can_include_unpublished_claims(curator_client, curator_api, cell):
    page = curator_client.get("/admin/map/")
    assert page.status_code == 200
    assert "Open the 5 claim(s)" in page.content.decode()
    assert b"Include unpublished claims" in page.content
    page = curator_client.get("/admin/map/?unpublished=true").content.decode()
    assert "Open the 7 claim(s)" in page
    assert "strongest level A" in page
    assert 'href="?"' in page  # back to accepted only
    data = curator_api.get("/api/v1/map/?unpublished=true").json()
    assert (data["cells"][0]["claims"], data["filters"]["unpublished"]) == (7, True)
    # The cell's link then lists every claim, not only accepted ones.
    assert "status" not in parse_qs(urlsplit(data["cells"][0]["evidence"]).query)


def test_the_admin_map_needs_a_staff_login(client, nobody):
    assert client.get("/admin/map/").status_code == 302
    client.force_login(nobody)
    assert client.get("/admin/map/").status_code == 302
    assert client.get("/admin/map/map.svg").status_code == 302


def test_staff_without_the_unpublished_right_get_the_accepted_map(client, cell):
    user = User.objects.create_user("staff-reader", is_staff=True)
    client.force_login(user)
    page = client.get("/admin/map/")
    assert page.status_code == 200
    assert b"Include unpublished claims" not in page.content
    assert client.get("/admin/map/?unpublished=true").status_code == 400


def test_cell_links_list_exactly_the_cells_claims(anon, curator_client):
    agent = factories.make_agent()
    parent = factories.make_mechanism()
    child = factories.make_mechanism(parent=parent)
    mine = {claim(agent, parent).uid, claim(agent, parent, E.OVERCOMES_RESISTANCE).uid}
    claim(agent, child)  # below the mechanism: its own row, not this cell
    claim(agent, parent, status="DRAFT")
    data = anon.get("/api/v1/map/").json()
    link = next(c for c in data["cells"] if c["mechanism"] == parent.slug)["evidence"]
    listed = anon.get(link).json()["results"]
    assert {item["uid"] for item in listed} == {str(uid) for uid in mine}

    page = curator_client.get("/admin/map/").content.decode()
    admin_link = next(
        href.replace("&amp;", "&")
        for href in _hrefs(page)
        if f"mechanism__id__exact={parent.pk}&" in href.replace("&amp;", "&")
    )
    assert admin_link.startswith("/admin/therapies/evidence/?")
    changelist = curator_client.get(admin_link)
    assert changelist.status_code == 200
    assert {e.uid for e in changelist.context["cl"].result_list} == mine


def _hrefs(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('<a href="')[1:]]


@pytest.fixture
def filtered():
    """Claims across two agent classes, two categories and two levels."""
    antibody = factories.make_agent(slug="mab", modality="MONOCLONAL_ANTIBODY")
    tki = factories.make_agent(slug="tinib", modality="TYROSINE_KINASE_INHIBITOR")
    receptor = factories.make_mechanism(slug="receptor", category="HER_RECEPTOR")
    downstream = factories.make_mechanism(slug="downstream", category="DOWNSTREAM")
    claim(antibody, receptor, level="B")
    claim(tki, downstream, level="D")
    claim(tki, receptor, level="D")


@pytest.mark.parametrize(
    "query, cells",
    [
        ("", {("mab", "receptor"), ("tinib", "downstream"), ("tinib", "receptor")}),
        (
            "modality=TYROSINE_KINASE_INHIBITOR",
            {("tinib", "downstream"), ("tinib", "receptor")},
        ),
        ("category=DOWNSTREAM", {("tinib", "downstream")}),
        ("level=B", {("mab", "receptor")}),
        (
            "level=B,D&category=HER_RECEPTOR",
            {("mab", "receptor"), ("tinib", "receptor")},
        ),
        ("level=B&level=D&modality=MONOCLONAL_ANTIBODY", {("mab", "receptor")}),
    ],
)
def test_filters_are_the_same_on_the_json_the_page_and_the_admin(
    anon, client, curator_client, filtered, query, cells
):
    data = anon.get(f"/api/v1/map/?{query}").json()
    assert {(c["agent"], c["mechanism"]) for c in data["cells"]} == cells
    for page_client, url in [(client, "/map/"), (curator_client, "/admin/map/")]:
        page = page_client.get(f"{url}?{query}")
        assert page.status_code == 200
        assert len(page.context["map"].cells) == len(cells)


def test_level_filter_carries_into_the_cell_links(anon, filtered):
    data = anon.get("/api/v1/map/?level=D&category=HER_RECEPTOR").json()
    (only,) = data["cells"]
    query = parse_qs(urlsplit(only["evidence"]).query)
    assert query == {
        "agent": ["tinib"],
        "mechanism_exact": ["receptor"],
        "level": ["D"],
        "status": ["ACCEPTED"],
    }


def test_bad_filter_values_are_400_with_the_field_named(anon, client, curator_client):
    response = anon.get("/api/v1/map/?level=Z&modality=PILL&unpublished=maybe")
    assert response.status_code == 400
    assert response.json() == {
        "modality": [
            "Select a valid choice. PILL is not one of the available choices."
        ],
        "level": ["Select a valid choice. Z is not one of the available choices."],
        "unpublished": ["Use true or false."],
    }
    for page_client, url in [(client, "/map/"), (curator_client, "/admin/map/")]:
        page = page_client.get(f"{url}?category=NOPE")
        assert page.status_code == 400
        assert b"NOPE is not one of the available choices" in page.content
    assert client.get("/map/map.svg?level=Z").status_code == 400
    empty = anon.get("/api/v1/map/?category=")
    assert empty.status_code == 400
    assert empty.json() == {"category": ["Give a value, or leave the parameter out."]}


def test_two_hundred_by_two_hundred_folds_to_the_cells_with_claims(anon, client):
    Agent.objects.bulk_create(
        Agent(name=f"agent {i:03}", slug=f"agent-{i:03}", modality="OTHER")
        for i in range(200)
    )
    Mechanism.objects.bulk_create(
        Mechanism(slug=f"m-{i:03}", name=f"Mechanism {i:03}", category="DOWNSTREAM")
        for i in range(200)
    )
    agents = list(Agent.objects.order_by("slug")[:3])
    mechanisms = list(Mechanism.objects.order_by("slug")[:2])
    claim(agents[0], mechanisms[0])
    claim(agents[1], mechanisms[1])
    claim(agents[2], mechanisms[1], E.OVERCOMES_RESISTANCE)
    data = anon.get("/api/v1/map/").json()
    assert [a["slug"] for a in data["agents"]] == [
        "agent-000",
        "agent-001",
        "agent-002",
    ]
    assert [m["slug"] for m in data["mechanisms"]] == ["m-000", "m-001"]
    assert (len(data["folded_agents"]), len(data["folded_mechanisms"])) == (197, 198)
    svg = ET.fromstring(client.get("/map/map.svg").content)
    # Legible: a few hundred pixels, not 200 columns of 46 px.
    assert float(svg.get("width")) < 700 and float(svg.get("height")) < 300
    assert len(svg.findall(f"{SVG}a")) == 3  # one link a cell


def test_the_json_has_agents_mechanisms_cells_and_what_was_folded(anon):
    agent = factories.make_agent(
        name="trastuzumab deruxtecan",
        slug="trastuzumab-deruxtecan",
        abbreviation="T-DXd",
        modality="ANTIBODY_DRUG_CONJUGATE",
    )
    unused = factories.make_agent(slug="zanidatamab", name="zanidatamab")
    root = factories.make_mechanism(slug="adc", name="ADC", category="ADC_SPECIFIC")
    loss = factories.make_mechanism(slug="her2-loss", name="HER2 loss", parent=root)
    claim(agent, loss, level="B")
    api = "http://testserver/api/v1"
    assert anon.get("/api/v1/map/").json() == {
        "filters": {"modality": [], "category": [], "level": [], "unpublished": False},
        "agents": [
            {
                "slug": "trastuzumab-deruxtecan",
                "name": "trastuzumab deruxtecan",
                "abbreviation": "T-DXd",
                "modality": "ANTIBODY_DRUG_CONJUGATE",
                "url": f"{api}/agents/trastuzumab-deruxtecan/",
            }
        ],
        "mechanisms": [
            {
                "slug": "her2-loss",
                "name": "HER2 loss",
                "category": "ADC_SPECIFIC",
                "parent": "adc",
                "depth": 1,
                "url": f"{api}/mechanisms/her2-loss/",
            }
        ],
        "cells": [
            {
                "agent": "trastuzumab-deruxtecan",
                "mechanism": "her2-loss",
                "resistance": 1,
                "overcomes": 0,
                "other": 0,
                "claims": 1,
                "strongest_level": "B",
                "evidence": f"{api}/evidence/?agent=trastuzumab-deruxtecan"
                "&mechanism_exact=her2-loss&status=ACCEPTED",
            }
        ],
        "folded_agents": [unused.slug],
        "folded_mechanisms": ["adc"],
    }


def test_an_empty_map_says_so(anon, client):
    assert anon.get("/api/v1/map/").json()["cells"] == []
    assert b"No claims match these filters." in client.get("/map/").content


def test_the_schema_documents_the_map(anon):
    schema = anon.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/map/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"modality", "category", "level", "unpublished"} <= names
    level = next(p for p in operation["parameters"] if p["name"] == "level")
    assert level["schema"]["items"]["enum"] == ["A", "B", "C", "D", "E"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Map"}
    cell = schema["components"]["schemas"]["MapCell"]
    assert {"resistance", "overcomes", "other", "strongest_level", "evidence"} <= set(
        cell["properties"]
    )


def test_the_svg_downloads_as_a_file_with_absolute_links(client, curator_client, cell):
    for page_client, url, target in [
        (client, "/map/map.svg", "http://testserver/api/v1/evidence/?"),
        (curator_client, "/admin/map/map.svg", "http://testserver/admin/therapies/"),
    ]:
        response = page_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
        assert response["Content-Disposition"] == (
            'attachment; filename="her2db-resistance-map.svg"'
        )
        svg = ET.fromstring(response.content)  # well-formed, standalone
        assert svg.tag == f"{SVG}svg"
        links = [a.get("href") for a in svg.iter(f"{SVG}a")]
        assert links and all(link.startswith(target) for link in links), links
    page = client.get("/map/?level=B").content.decode()
    assert 'href="/map/map.svg?level=B"' in page


def test_the_pages_need_no_inline_script_or_style(client, curator_client, cell):
    for page_client, url in [(client, "/map/"), (curator_client, "/admin/map/")]:
        page = page_client.get(url).content.decode()
        main = page.split('id="content-main"')[-1] if "admin" in url else page
        assert "<style" not in main and "style=" not in main, url
        assert "<script>" not in main and "<script " not in main.replace(
            "<script src=", ""
        ), url


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def grow(n: int) -> None:
    for _ in range(n):
        agents = [factories.make_agent() for _ in range(2)]
        parent = factories.make_mechanism()
        child = factories.make_mechanism(parent=parent)
        claim(agents, child, level="B")
        claim(agents[:1], parent, E.OVERCOMES_RESISTANCE)
        claim(agents[1:], parent, status="DRAFT")


# The counts grouped by agent, mechanism, effect and direction; the agents;
# the mechanisms. The admin adds its session, the user and the user's and
# groups' permissions (once, cached on the user); the public pages nothing.
MAP_QUERIES = 3


@pytest.mark.parametrize(
    "persona, url, extra",
    [
        ("anon", "/api/v1/map/", 1),  # the data version, for its ETag
        ("anon", "/map/", 0),
        ("anon", "/map/map.svg", 0),
        ("staff", "/admin/map/", 4),
        ("staff", "/admin/map/?unpublished=true", 4),
        ("staff", "/admin/map/map.svg", 4),
    ],
)
def test_every_map_runs_a_fixed_number_of_queries(
    persona, url, extra, anon, curator_client
):
    reader = anon if persona == "anon" else curator_client
    grow(1)
    small = queries(reader, url)
    grow(6)
    large = queries(reader, url)
    assert (small, large) == (MAP_QUERIES + extra, MAP_QUERIES + extra)


def test_a_parent_cycle_in_the_data_hides_no_row(anon):
    agent = factories.make_agent()
    first = factories.make_mechanism()
    second = factories.make_mechanism(parent=first)
    # The models refuse a cycle; an update bypasses them, as a raw load could.
    Mechanism.objects.filter(pk=first.pk).update(parent=second)
    claim(agent, first)
    claim(agent, second, E.OVERCOMES_RESISTANCE)
    response = anon.get("/api/v1/map/")
    assert response.status_code == 200
    assert {m["slug"] for m in response.json()["mechanisms"]} == {
        first.slug,
        second.slug,
    }


def test_the_map_is_read_only(anon, curator_api, curator_client):
    for api in (anon, curator_api):
        for method in (api.post, api.put, api.patch, api.delete):
            response = method("/api/v1/map/", {})
            assert response.status_code == 405, method
            assert "detail" in response.json()
    assert curator_client.post("/admin/map/").status_code == 405
