"""The curator's workbench: a work list on the admin's home page, and from every
record to its evidence (sections, filters, the mechanism tree)."""

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import _user_in
from therapies.models import Evidence, Revision
from therapies.workbench import work_list

pytestmark = pytest.mark.django_db

S = Evidence.Status
EVIDENCE = "/admin/therapies/evidence/"


def claim(**kw):
    return factories.make_evidence(**kw)


@pytest.fixture
def desk(curator, editor):
    """Claims in every state, by a curator and by an editor."""
    other = _user_in("Curators", "other-curator")
    retracted = factories.make_citation(retracted=True)
    made = {
        "curator_submitted": [
            claim(status=S.SUBMITTED, created_by=curator, submitted_by=curator)
            for _ in range(2)
        ],
        "editor_submitted": claim(
            status=S.SUBMITTED, created_by=editor, submitted_by=editor
        ),
        "curator_draft": claim(status=S.DRAFT, created_by=curator),
        "other_draft": claim(status=S.DRAFT, created_by=other),
        "sent_back": claim(
            status=S.DRAFT,
            created_by=curator,
            submitted_by=curator,
            status_reason="cite the trial",
        ),
        "rejected": claim(
            status=S.REJECTED, created_by=curator, status_reason="not shown"
        ),
        "retracted": claim(citations=[retracted]),
        "retracted_reviewed": claim(citations=[factories.make_citation()]),
    }
    accepted = claim(status=S.ACCEPTED)
    made["revision"] = Revision.propose(accepted, {"level": "A"}, curator)
    Revision.propose(claim(status=S.ACCEPTED), {"level": "A"}, editor)
    return made


def counts(user) -> dict[str, int]:
    return {item.label: item.count for item in work_list(user)}


def test_an_editor_sees_what_others_submitted_and_retractions(editor, desk):
    assert counts(editor) == {
        "Claims waiting for your review": 2,  # the curator's, not the editor's own
        "Your drafts": 0,
        "Sent back or rejected: yours to revise": 0,
        "Claims citing a retracted paper, not yet reviewed": 1,
        "Revisions waiting for your review": 1,
    }


def test_a_curator_sees_their_drafts_and_what_came_back(curator, desk):
    assert counts(curator) == {
        "Your drafts": 1,
        "Sent back or rejected: yours to revise": 2,
        "Claims citing a retracted paper, not yet reviewed": 1,
    }


@pytest.mark.parametrize("who", ["curator", "editor"])
def test_each_work_list_link_opens_the_claims_it_counts(who, request, desk):
    user = request.getfixturevalue(who)
    client = request.getfixturevalue(f"{who}_client")
    for item in work_list(user):
        response = client.get(item.url)
        assert response.status_code == 200, item.url
        assert response.context["cl"].result_count == item.count, item.label


def test_the_review_list_holds_the_right_claims(editor_client, desk):
    page = editor_client.get(f"{EVIDENCE}?work=review")
    assert set(page.context["cl"].result_list) == set(desk["curator_submitted"])
    page = editor_client.get(f"{EVIDENCE}?work=retracted")
    assert list(page.context["cl"].result_list) == [desk["retracted"]]


def test_the_home_page_shows_the_work_list_with_links_and_recent_changes(
    editor_client, desk
):
    body = editor_client.get("/admin/").content.decode()
    assert 'id="her2db-work"' in body
    assert f'<a href="{EVIDENCE}?work=review">2</a>' in body
    assert '<a href="/admin/therapies/revision/?work=review">1</a>' in body
    assert 'id="her2db-recent-changes"' in body
    # accepted claims are public: their creation is in the change feed
    uid = desk["retracted"].uid
    assert f"{EVIDENCE}?uid={uid}" in body


def test_an_unknown_work_list_is_an_error_message_not_a_500(curator_client):
    response = curator_client.get(f"{EVIDENCE}?work=nonsense")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_home_page_runs_the_same_queries_however_much_work(
    editor_client, editor, curator
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert editor_client.get("/admin/").status_code == 200
        return len(captured)

    claim(status=S.SUBMITTED, created_by=curator, submitted_by=curator)
    few = queries()
    for _ in range(5):
        claim(status=S.SUBMITTED, created_by=curator, submitted_by=curator)
        claim(citations=[factories.make_citation(retracted=True)])
        Revision.propose(claim(), {"level": "A"}, curator)
    assert queries() == few


# From a record to its evidence.


def section_of(response):
    return response.context["related_evidence"]


def test_an_agent_page_lists_its_claims_with_counts_and_links(curator_client):
    agent, partner = factories.make_agent(), factories.make_agent()
    accepted = claim(agents=[agent, partner], statement="Combination works. " * 10)
    draft = claim(agents=[agent], status=S.DRAFT)
    claim()  # another agent's
    response = curator_client.get(
        reverse("admin:therapies_agent_change", args=[agent.pk])
    )
    section = section_of(response)
    assert section.total == 2
    assert {c.pk for c in section.claims} == {accepted.pk, draft.pk}
    assert [(label, n) for label, n, _ in section.counts] == [
        ("Draft", 1),
        ("Accepted", 1),
    ]
    body = response.content.decode()
    assert f'href="{EVIDENCE}?agent={agent.pk}"' in body
    assert f'href="{EVIDENCE}?agent={agent.pk}&amp;status__exact=DRAFT"' in body
    for c in (accepted, draft):
        assert f'href="/admin/therapies/evidence/{c.pk}/change/"' in body
    assert f'href="/admin/therapies/agent/{partner.pk}/change/"' in body
    mechanism = accepted.mechanism
    assert f'href="/admin/therapies/mechanism/{mechanism.pk}/change/"' in body
    assert "Combination works. Combination works." in body
    assert "Confers resistance" in body


@pytest.mark.parametrize("kind", ["target", "mechanism", "trial", "citation"])
def test_every_record_page_lists_its_claims(curator_client, kind):
    gene = factories.make_target()
    root = factories.make_mechanism()
    child = factories.make_mechanism(parent=root)
    child.genes.add(gene)
    trial, citation = factories.make_trial(), factories.make_citation()
    agent = factories.make_agent(targets=1)
    about = [
        claim(mechanism=child, trials=[trial], citations=[citation]),
        claim(agents=[agent], mechanism=root, trials=[trial], citations=[citation]),
    ]
    claim()  # about none of them
    record = {
        "target": gene,
        "mechanism": root,  # the claim on its child counts too
        "trial": trial,
        "citation": citation,
    }[kind]
    if kind == "target":
        about[1].agents.set([agent])
        agent.agent_targets.update(target=gene)
    opts = record._meta
    response = curator_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    )
    assert {c.pk for c in section_of(response).claims} == {c.pk for c in about}
    listed = curator_client.get(section_of(response).url)
    assert set(listed.context["cl"].result_list) == set(about)


def test_a_change_page_runs_the_same_queries_however_many_claims(curator_client):
    agent = factories.make_agent()
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    claim(agents=[agent])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert curator_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(6):
        claim(agents=[agent, factories.make_agent()])
    assert queries() == few


def test_a_reader_without_rights_to_drafts_sees_only_accepted_claims(db):
    reader = User.objects.create_user("reader", is_staff=True)
    reader.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_agent", "view_evidence"])
    )
    agent = factories.make_agent()
    accepted = claim(agents=[agent])
    claim(agents=[agent], status=S.DRAFT)
    client = Client()
    client.force_login(reader)
    response = client.get(reverse("admin:therapies_agent_change", args=[agent.pk]))
    assert [c.pk for c in section_of(response).claims] == [accepted.pk]


def test_the_evidence_list_shows_the_id_and_the_start_of_the_statement(
    curator_client,
):
    agent = factories.make_agent(name="trastuzumab")
    c = claim(agents=[agent], statement="PTEN loss predicted poor response. " * 5)
    body = curator_client.get(EVIDENCE).content.decode()
    assert f'<a href="/admin/therapies/evidence/{c.pk}/change/">{c.pk}</a>' in body
    assert "PTEN loss predicted poor response. PTEN loss predicted" in body
    assert f'<a href="/admin/therapies/agent/{agent.pk}/change/">trastuzumab</a>' in (
        body
    )


@pytest.mark.parametrize("parameter", ["agent", "mechanism", "trial", "citation"])
def test_the_evidence_list_filters_by_a_record_picked_by_autocomplete(
    curator_client, parameter
):
    wanted = claim(trials=[factories.make_trial()])
    claim(trials=[factories.make_trial()])
    value = {
        "agent": wanted.agents.get().pk,
        "mechanism": wanted.mechanism_id,
        "trial": wanted.trials.get().pk,
        "citation": wanted.citations.get().pk,
    }[parameter]
    response = curator_client.get(EVIDENCE, {parameter: value})
    assert list(response.context["cl"].result_list) == [wanted]
    body = response.content.decode()
    # Django's autocomplete widget, with the chosen record selected
    select = re.search(rf'<select name="{parameter}"[^>]*>', body).group(0)
    assert "admin-autocomplete" in select and "her2db-filter-select" in select
    assert re.search(rf'<option value="{value}" selected>', body)
    assert "her2db/autocomplete_filter.js" in body


def test_the_mechanism_filter_takes_in_the_subtree(curator_client):
    root = factories.make_mechanism()
    child = factories.make_mechanism(parent=root)
    grandchild = factories.make_mechanism(parent=child)
    sibling = factories.make_mechanism(category="DOWNSTREAM")
    claims = [claim(mechanism=m) for m in (root, child, grandchild)]
    claim(mechanism=sibling)
    listed = curator_client.get(EVIDENCE, {"mechanism": root.pk}).context["cl"]
    assert set(listed.result_list) == set(claims)
    listed = curator_client.get(EVIDENCE, {"mechanism": child.pk}).context["cl"]
    assert set(listed.result_list) == set(claims[1:])


@pytest.mark.parametrize("parameter", ["agent", "mechanism", "target", "trial"])
def test_a_malformed_filter_value_is_an_error_message_not_a_500(
    curator_client, parameter
):
    response = curator_client.get(EVIDENCE, {parameter: "1 OR 1=1"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_mechanisms_are_listed_as_a_tree_with_their_claims(curator_client):
    root = factories.make_mechanism(name="Z root", category="HER_RECEPTOR")
    a = factories.make_mechanism(parent=root, name="B child")
    b = factories.make_mechanism(parent=root, name="A child")
    a_leaf = factories.make_mechanism(parent=a, name="A leaf")
    other = factories.make_mechanism(name="Other root", category="DOWNSTREAM")
    claim(mechanism=a_leaf)
    claim(mechanism=a)
    claim(mechanism=root)
    response = curator_client.get("/admin/therapies/mechanism/")
    rows = list(response.context["cl"].result_list)
    assert rows == [root, b, a, a_leaf, other]
    assert [m.tree_depth for m in rows] == [0, 1, 1, 2, 0]
    assert [(m.n_evidence, m.tree_total) for m in rows] == [
        (1, 3),
        (0, 0),
        (1, 2),
        (1, 1),
        (0, 0),
    ]
    body = response.content.decode()
    assert '<span class="tree-node tree-depth-2">A leaf</span>' in body
    assert f'<a href="{EVIDENCE}?mechanism={root.pk}">1 / 3</a>' in body


def test_sorting_mechanisms_by_a_column_still_works(curator_client):
    factories.make_mechanism(category="DOWNSTREAM")
    factories.make_mechanism(category="HER_RECEPTOR")
    response = curator_client.get("/admin/therapies/mechanism/", {"o": "2"})
    categories = [m.category for m in response.context["cl"].result_list]
    assert categories == sorted(categories)


def test_the_filtered_evidence_list_runs_the_same_queries_however_many_rows(
    editor_client, curator
):
    root = factories.make_mechanism()
    child = factories.make_mechanism(parent=root)
    agent, trial = factories.make_agent(), factories.make_trial()

    def add():
        claim(
            agents=[agent, factories.make_agent()],
            mechanism=child,
            trials=[trial],
            status=S.SUBMITTED,
            created_by=curator,
            submitted_by=curator,
        )

    query = {"mechanism": root.pk, "agent": agent.pk, "trial": trial.pk}
    query["work"] = "review"

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = editor_client.get(EVIDENCE, query)
        assert response.status_code == 200
        return len(captured), response.context["cl"].result_count

    add()
    few, one = queries()
    for _ in range(6):
        add()
    many, seven = queries()
    assert (one, seven) == (1, 7)
    assert many == few
