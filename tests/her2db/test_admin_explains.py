"""Admin pages that explain: help where it matters, one date format, retraction
warnings, and refusals that say what happened and link to what is in the way."""

import re
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from her2db.operations import operation
from references.models import Citation
from tests import factories
from tests.therapies.admin_pages import form_data
from therapies.curated import LOADED, name_the_load
from therapies.models import Agent, Evidence, Target

pytestmark = pytest.mark.django_db

ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def test_level_effect_direction_and_model_system_are_explained(curator_client):
    fields = {f.name: f for f in Evidence._meta.get_fields()}
    level = fields["level"].help_text
    for letter, meaning in [
        ("A", "validated"),
        ("B", "clinical"),
        ("C", "case study"),
        ("D", "preclinical"),
        ("E", "inferential"),
    ]:
        assert f"{letter}, {meaning}:" in level
    for name in ("effect", "direction", "model_system"):
        assert len(fields[name].help_text) > 40, name
    body = curator_client.get(reverse("admin:therapies_evidence_add")).content
    assert b"A, validated: proven or consensus" in body


def test_dates_and_times_are_iso_8601_everywhere(curator_client):
    agent = factories.make_agent()
    factories.make_approval(agent=agent, date=date(2022, 5, 4))
    page = curator_client.get(reverse("admin:therapies_agent_change", args=[agent.pk]))
    body = page.content.decode()
    assert 'value="2022-05-04"' in body  # the approval's date widget
    assert ISO_DATETIME.search(body)  # created at, read-only
    assert "p.m." not in body and "a.m." not in body
    listed = curator_client.get(reverse("admin:therapies_approval_changelist"))
    assert "2022-05-04" in listed.content.decode()
    history = curator_client.get(
        reverse("admin:therapies_agent_history", args=[agent.pk])
    ).content.decode()
    assert ISO_DATETIME.search(history)
    assert "p.m." not in history and "a.m." not in history


def test_a_date_typed_the_iso_way_is_accepted_and_another_is_a_form_error(
    curator_client,
):
    agent = factories.make_agent()
    url = reverse("admin:therapies_agent_change", args=[agent.pk])
    data = form_data(curator_client.get(url)) | {
        "approvals-TOTAL_FORMS": "1",
        "approvals-0-agency": "FDA",
        "approvals-0-date": "04/05/2022",
        "approvals-0-date_precision": "DAY",  # the select's default
        "approvals-0-indication": "HER2-positive breast cancer",
    }
    refused = curator_client.post(url, data)
    assert refused.status_code == 200
    assert not agent.approvals.exists()
    data["approvals-0-date"] = "2022-05-04"
    assert curator_client.post(url, data).status_code == 302
    assert agent.approvals.get().date == date(2022, 5, 4)


def fieldset_classes(response, name) -> list[str]:
    for fieldset in response.context["adminform"]:
        if fieldset.name == name:
            return list(fieldset.classes.split())
    raise AssertionError(f"no fieldset {name}")


def test_the_conjugate_fieldset_is_open_on_a_conjugate_and_folded_otherwise(
    curator_client,
):
    adc = factories.make_agent(
        modality=Agent.Modality.ANTIBODY_DRUG_CONJUGATE, payload="DXd"
    )
    antibody = factories.make_agent()
    page = curator_client.get(reverse("admin:therapies_agent_change", args=[adc.pk]))
    assert "collapse" not in fieldset_classes(page, "Antibody-drug conjugate")
    page = curator_client.get(
        reverse("admin:therapies_agent_change", args=[antibody.pk])
    )
    assert "collapse" in fieldset_classes(page, "Antibody-drug conjugate")


def test_a_claim_page_flags_each_retracted_citation(curator_client):
    gone = factories.make_citation(
        citekey="Gone2019", retracted=True, retraction_date=date(2021, 3, 2)
    )
    fine = factories.make_citation(citekey="Fine2020")
    evidence = factories.make_evidence(citations=[gone, fine])
    body = curator_client.get(
        reverse("admin:therapies_evidence_change", args=[evidence.pk])
    ).content.decode()
    notice = re.search(
        r'<div class="errornote" id="retracted-citations">.*?</div>', body, re.S
    )
    assert notice and "Gone2019 retracted 2021-03-02" in notice.group(0)
    assert "Fine2020" not in notice.group(0)
    assert body.count('class="her2db-retracted"') == 2  # the notice and the row


def test_lists_warn_of_retracted_sources_with_an_alert_not_a_tick(curator_client):
    gone = factories.make_citation(retracted=True)
    factories.make_evidence(citations=[gone])
    factories.make_evidence()
    for name in (
        "admin:therapies_evidence_changelist",
        "admin:references_citation_changelist",
    ):
        body = curator_client.get(reverse(name)).content.decode()
        assert body.count("icon-alert.svg") == 1, name
        assert "icon-yes.svg" not in body, name


def test_a_refused_concurrent_edit_shows_their_changes_beside_mine(
    curator_client, editor
):
    target = factories.make_target(symbol="ERBB2", name="first name")
    url = reverse("admin:therapies_target_change", args=[target.pk])
    data = form_data(curator_client.get(url))
    with operation():  # someone else saves meanwhile
        theirs = Target.objects.get(pk=target.pk)
        theirs.name, theirs.aliases = "their name", "HER2"
        theirs._history_user = editor
        theirs.save()
    response = curator_client.post(url, data | {"name": "my name"})
    assert response.status_code == 200
    conflicts = response.context["adminform"].form.conflicts
    assert conflicts == [
        {
            "field": "Name",
            "before": "first name",
            "theirs": "their name",
            "yours": "my name",
        },
        {"field": "Aliases", "before": "—", "theirs": "HER2", "yours": "—"},
    ]
    body = response.content.decode()
    assert 'id="edit-conflicts"' in body
    assert "changed by editor at" in body
    assert Target.objects.get(pk=target.pk).name == "their name"


def test_a_refused_delete_links_every_dependant_to_its_page(editor_client):
    agent = factories.make_agent(name="usedumab")
    evidence = factories.make_evidence(agents=[agent])
    trial = factories.make_trial()
    arm = trial.arms.create(label="Arm A")
    arm.agents.add(agent)
    body = editor_client.get(
        reverse("admin:therapies_agent_delete", args=[agent.pk])
    ).content.decode()
    assert f'<a href="/admin/therapies/evidence/{evidence.pk}/change/">' in body
    assert f'<a href="/admin/therapies/trial/{trial.pk}/change/">' in body
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_a_delete_takes_a_reason_kept_in_the_history(editor_client, editor):
    target = factories.make_target()
    url = reverse("admin:therapies_target_delete", args=[target.pk])
    assert 'name="change_reason"' in editor_client.get(url).content.decode()
    response = editor_client.post(
        url, {"post": "yes", "change_reason": "duplicate of ERBB2"}
    )
    assert response.status_code == 302
    record = Target.history.filter(id=target.pk).latest()
    assert (record.history_type, record.history_change_reason) == (
        "-",
        "duplicate of ERBB2",
    )
    assert record.history_user == editor
    deleted = editor_client.get(reverse("admin:therapies_target_deleted"))
    assert "duplicate of ERBB2" in deleted.content.decode()


def test_a_delete_without_a_reason_shows_a_dash_and_the_load_is_named(
    editor_client,
):
    citation = factories.make_citation()
    url = reverse("admin:references_citation_history", args=[citation.pk])
    body = editor_client.get(url).content.decode()
    assert 'class="history-reason">—<' in body
    assert 'class="history-user">data load (no account)<' in body
    assert ">None<" not in body


def test_the_data_load_names_itself_in_the_history():
    with operation():
        target = factories.make_target()
        by_curator = factories.make_target()
        by_curator.history.update(history_change_reason="typed in")
        name_the_load()
    assert target.history.get().history_change_reason == LOADED
    assert by_curator.history.get().history_change_reason == "typed in"


def test_a_restored_record_keeps_its_creation_time(editor_client):
    created = datetime(2020, 1, 2, 3, 4, tzinfo=UTC)
    citation = factories.make_citation(authors=2)
    Citation.objects.filter(pk=citation.pk).update(created_at=created)
    citation.history.update(created_at=created)
    editor_client.post(
        reverse("admin:references_citation_delete", args=[citation.pk]),
        {"post": "yes"},
    )
    record = Citation.history.get(id=citation.pk, history_type="-")
    response = editor_client.post(
        reverse("admin:references_citation_restore", args=[record.history_id])
    )
    assert response.status_code == 302
    restored = Citation.objects.get(pk=citation.pk)
    assert restored.created_at == created
    assert restored.updated_at > created
    assert citation.history.latest().created_at == created
    assert restored.authors.count() == 2
