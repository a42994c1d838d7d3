"""The admin is the curators' daily tool: every page answers, queries stay flat,
edits leave history with the user and the reason, and history can be reverted."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from references.models import Author, Citation, DistinctAuthors
from tests import factories
from therapies import models

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (
        m
        for m in admin.site._registry
        if m._meta.app_label in ("references", "therapies")
    ),
    key=lambda m: m._meta.label,
)

# One row of each registered model, built with its relations filled in so
# the changelist exercises every computed column.
MAKERS = {
    Author: lambda: factories.make_citation(authors=1).authors.get(),
    Citation: lambda: factories.make_citation(authors=3),
    DistinctAuthors: lambda: DistinctAuthors.objects.create(
        first=factories.make_author(), second=factories.make_author()
    ),
    models.Target: factories.make_target,
    models.Agent: lambda: _agent_with_everything(),
    models.Approval: factories.make_approval,
    models.Mechanism: lambda: factories.make_mechanism(genes=2),
    models.Trial: lambda: factories.make_outcome().trial,
    models.Outcome: factories.make_outcome,
    models.Evidence: lambda: _evidence_with_everything(),
    models.Revision: lambda: _revision(),
}


def _agent_with_everything():
    agent = factories.make_agent(targets=2)
    models.AgentAlias.objects.create(
        agent=agent, alias=f"Brand-{agent.slug}", kind="BRAND"
    )
    factories.make_approval(agent=agent)
    return agent


def _evidence_with_everything():
    evidence = factories.make_evidence(
        agents=[factories.make_agent(), factories.make_agent()]
    )
    evidence.trials.add(factories.make_trial())
    return evidence


def _revision():
    evidence = _evidence_with_everything()
    author = User.objects.get_or_create(username="reviser")[0]
    return models.Revision.propose(
        evidence, {"level": "B"}, author, note="stronger data"
    )


def test_every_curated_model_is_registered():
    assert set(MAKERS) == set(REGISTERED)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_answer_for_a_curator(curator_client, model):
    obj = MAKERS[model]()
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    for url in (
        reverse(f"{prefix}_changelist"),
        reverse(f"{prefix}_add"),
        reverse(f"{prefix}_change", args=[obj.pk]),
        reverse(f"{prefix}_history", args=[obj.pk]),
    ):
        # Revisions are proposed from a claim's page, never added on their own.
        expected = 403 if model is models.Revision and url.endswith("/add/") else 200
        assert curator_client.get(url).status_code == expected, url


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(curator_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for _ in range(3):
        MAKERS[model]()
    with CaptureQueriesContext(connection) as three:
        assert curator_client.get(url).status_code == 200
    # A query for each row would show as 7 more (building 27 more rows, as
    # this did, cost seconds a model and showed nothing more).
    for _ in range(7):
        MAKERS[model]()
    with CaptureQueriesContext(connection) as ten:
        response = curator_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 10
    assert len(ten) == len(three), [q["sql"] for q in ten.captured_queries]


def test_search_finds_agents_by_alias_and_identifier(curator_client):
    agent = factories.make_agent(
        name="trastuzumab deruxtecan", chembl_id="CHEMBL4297844"
    )
    models.AgentAlias.objects.create(agent=agent, alias="Enhertu", kind="BRAND")
    factories.make_agent()
    url = reverse("admin:therapies_agent_changelist")
    for term in ("enhertu", "CHEMBL4297844", "deruxtecan"):
        response = curator_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [agent], term


def test_changelists_link_out_to_registries(curator_client):
    factories.make_citation(pmid="22149875", doi="10.1056/nejmoa1113216")
    factories.make_trial(nct_id="NCT00567190")
    factories.make_agent(chembl_id="CHEMBL1201585")
    pages = {
        "admin:references_citation_changelist": [
            "https://pubmed.ncbi.nlm.nih.gov/22149875/",
            "https://doi.org/10.1056/nejmoa1113216",
        ],
        "admin:therapies_trial_changelist": [
            "https://clinicaltrials.gov/study/NCT00567190"
        ],
        "admin:therapies_agent_changelist": [
            "https://www.ebi.ac.uk/chembl/explore/compound/CHEMBL1201585"
        ],
    }
    for name, links in pages.items():
        body = curator_client.get(reverse(name)).content.decode()
        for link in links:
            assert link in body


def test_admin_edit_leaves_history_with_user_and_reason_and_can_be_reverted(
    curator_client, curator
):
    target = factories.make_target(symbol="ERBB2", name="old name")
    url = reverse("admin:therapies_target_change", args=[target.pk])
    response = curator_client.post(
        url,
        {
            "symbol": "ERBB2",
            "name": "erb-b2 receptor tyrosine kinase 2",
            "aliases": "HER2, NEU",
            "hgnc_id": "",
            "uniprot_id": "",
            "change_reason": "HGNC approved name",
        },
    )
    assert response.status_code == 302, response.content
    latest = target.history.latest()
    assert latest.history_user == curator
    assert latest.history_change_reason == "HGNC approved name"
    delta = latest.diff_against(latest.prev_record)
    assert {c.field for c in delta.changes} == {"name", "aliases"}

    first = target.history.earliest()
    revert_url = reverse(
        "admin:therapies_target_simple_history", args=[target.pk, first.history_id]
    )
    assert curator_client.get(revert_url).status_code == 200
    response = curator_client.post(
        revert_url,
        {
            "symbol": "ERBB2",
            "name": "old name",
            "aliases": "",
            "hgnc_id": "",
            "uniprot_id": "",
            "change_reason": "revert",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.aliases) == ("old name", "")
    assert target.history.count() == 3


def test_relation_edits_are_in_history(curator_client, curator):
    evidence = factories.make_evidence()
    added = factories.make_agent()
    evidence.agents.add(added)
    record = evidence.history.latest()
    assert {row.agent_id for row in record.agents.all()} == {
        a.pk for a in evidence.agents.all()
    }


def test_evidence_admin_saves_agents_through_their_protecting_table(
    curator_client, curator
):
    agents = [factories.make_agent(), factories.make_agent()]
    mechanism, citation = factories.make_mechanism(), factories.make_citation()
    trial = factories.make_trial()
    response = curator_client.post(
        reverse("admin:therapies_evidence_add"),
        {
            "agents": [a.pk for a in agents],
            "mechanism": mechanism.pk,
            "effect": "CONFERS_RESISTANCE",
            "direction": "SUPPORTS",
            "level": "D",
            "origin": "ACQUIRED",
            "model_system": "CELL_LINE",
            "statement": "A combination claim.",
            "trials": [trial.pk],
            "status": "DRAFT",
            "change_reason": "",
            "evidence_citations-TOTAL_FORMS": "1",
            "evidence_citations-INITIAL_FORMS": "0",
            "evidence_citations-MIN_NUM_FORMS": "1",
            "evidence_citations-MAX_NUM_FORMS": "1000",
            "evidence_citations-0-citation": citation.pk,
            "evidence_citations-0-quote": "exact words",
            "evidence_citations-0-location": "Fig. 2",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    evidence = models.Evidence.objects.get()
    assert set(evidence.agents.all()) == set(agents)
    assert list(evidence.trials.all()) == [trial]
    assert evidence.evidence_citations.get().quote == "exact words"
    assert evidence.history.latest().history_user == curator


def test_deleting_used_citation_in_admin_is_refused(editor_client):
    citation = factories.make_citation()
    factories.make_evidence(citations=[citation])
    url = reverse("admin:references_citation_delete", args=[citation.pk])
    response = editor_client.post(url, {"post": "yes"})
    assert response.status_code == 200  # the "cannot delete" page
    assert b"protected" in response.content.lower()
    assert Citation.objects.filter(pk=citation.pk).exists()


def test_groups_exist_with_the_right_rights(curator, editor):
    assert curator.has_perm("therapies.change_evidence")
    assert curator.has_perm("references.add_citation")
    assert not curator.has_perm("therapies.delete_evidence")
    assert not curator.has_perm("therapies.review_evidence")
    assert curator.has_perm("references.delete_citationauthor")  # inline rows
    assert editor.has_perm("therapies.delete_evidence")
    assert editor.has_perm("therapies.review_evidence")


def test_curator_cannot_reach_the_delete_page(curator_client):
    citation = factories.make_citation()
    url = reverse("admin:references_citation_delete", args=[citation.pk])
    assert curator_client.get(url).status_code == 403


def test_author_autocomplete_answers(curator_client):
    factories.make_author(family_name="Baselga", given_name="J")
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Basel",
            "app_label": "references",
            "model_name": "citationauthor",
            "field_name": "author",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["text"] == "Baselga J"


def test_editor_restores_a_deleted_claim_with_its_citations_and_agents(
    editor_client, curator_client
):
    agents = [factories.make_agent(), factories.make_agent()]
    citation = factories.make_citation()
    evidence = factories.make_evidence(agents=agents, citations=[citation])
    evidence.evidence_citations.update(quote="the words")
    pk, uid = evidence.pk, evidence.uid
    delete = reverse("admin:therapies_evidence_delete", args=[pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 302
    assert not models.Evidence.objects.filter(pk=pk).exists()

    deleted = reverse("admin:therapies_evidence_deleted")
    page = curator_client.get(deleted)
    assert page.status_code == 200
    record = page.context["records"][0]
    assert not page.context["can_restore"]  # curators see, editors restore
    restore = reverse("admin:therapies_evidence_restore", args=[record.history_id])
    assert curator_client.post(restore).status_code == 403

    assert editor_client.post(restore).status_code == 302
    restored = models.Evidence.objects.get(pk=pk)
    assert restored.uid == uid
    assert set(restored.agents.all()) == set(agents)
    assert restored.evidence_citations.get().quote == "the words"
    assert restored.history.latest().history_change_reason == "restored from history"
    assert editor_client.get(deleted).context["records"].count() == 0


def test_deleting_a_used_record_lists_what_depends_on_it(editor_client):
    agent = factories.make_agent(name="usedumab")
    factories.make_evidence(agents=[agent])
    response = editor_client.get(
        reverse("admin:therapies_agent_delete", args=[agent.pk])
    )
    body = response.content.decode()
    assert "protected" in body.lower()
    assert "usedumab" in body


def test_only_the_last_deletion_of_a_record_is_offered_for_restore(editor_client):
    target = factories.make_target(symbol="ONCE", name="first version")
    pk = target.pk
    target.delete()
    restore = reverse(
        "admin:therapies_target_restore",
        args=[models.Target.history.filter(id=pk, history_type="-").get().history_id],
    )
    editor_client.post(restore)
    models.Target.objects.filter(pk=pk).update(name="second version")
    models.Target.objects.get(pk=pk).delete()
    records = editor_client.get(reverse("admin:therapies_target_deleted")).context[
        "records"
    ]
    assert [r.name for r in records] == ["second version"]
