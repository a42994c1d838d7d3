"""The resource registry: every curated model declared once, and declared right."""

import pytest
from django.apps import apps
from django.urls import reverse

from her2db.registry import Registry, Resource, owner_model_of, registry
from references.models import Citation
from tests.conftest import make_evidence
from therapies.models import Agent, Evidence, EvidenceCitation, TrialArmAgent

APPS = ("references", "therapies")


def project_models():
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if not model._meta.model_name.startswith("historical"):
                yield model


def test_every_model_of_the_apps_is_declared():
    missing = [m._meta.label for m in project_models() if m not in registry]
    assert missing == []


def test_a_model_declared_twice_is_refused():
    twice = Registry()
    twice.register(Resource(Agent, key="slug"))
    with pytest.raises(ValueError, match="therapies.agent is declared twice"):
        twice.register(Resource(Agent, key="name"))


def test_records_have_a_key_field_and_owned_rows_an_owner_that_is_a_record():
    records = {r.model for r in registry.records()}
    for resource in registry:
        if resource.key:
            resource.model._meta.get_field(resource.key)
        if resource.owner:
            assert owner_model_of(resource) in records, resource.label
            assert not resource.key and not resource.kind, resource.label


def test_each_endpoint_is_routed_and_each_kind_names_one_resource():
    for resource in registry:
        if resource.basename:
            assert reverse(f"{resource.basename}-list").startswith("/api/v1/")
            resource.model._meta.get_field(resource.lookup_field)
    kinds = [r.kind for r in registry if r.kind]
    assert len(kinds) == len(set(kinds))
    assert registry.kinds() == sorted(kinds)


def test_fed_owned_rows_point_straight_at_their_record():
    # The bulk feed groups rows by that foreign key (therapies/changes.py).
    for resource in registry.owned():
        if resource.feed_field:
            field = resource.model._meta.get_field(resource.owner)
            assert field.many_to_one, resource.label


def test_search_columns_are_text_columns_of_their_model():
    for resource in registry:
        for _, columns in resource.search:
            for column in columns:
                resource.model._meta.get_field(column)
        for model, path, columns, weight in resource.search_related:
            assert weight in "ABCD"
            for column in columns:
                model._meta.get_field(column)
            assert model._meta.get_field(path).related_model is resource.model


def test_released_models_come_after_the_models_they_point_at():
    seen = set()
    for resource in registry.released():
        for field in resource.model._meta.concrete_fields:
            target = field.related_model
            if (
                field.is_relation
                and target is not resource.model
                and target in {r.model for r in registry.released()}
            ):
                assert target in seen, f"{resource.label} before {target}"
        seen.add(resource.model)


def test_the_public_rule_of_a_claim_reaches_its_owned_rows():
    accepted = Evidence.Status.ACCEPTED
    assert registry.public_lookups(Evidence) == {"status": accepted}
    assert registry.public_lookups(EvidenceCitation) == {"evidence__status": accepted}
    assert registry.public_lookups(Citation) == {}
    assert registry.get(TrialArmAgent).owner_lookup == "arm__trial"


@pytest.mark.django_db
def test_public_rows_and_is_public_agree():
    draft = make_evidence(status=Evidence.Status.DRAFT)
    accepted = make_evidence(status=Evidence.Status.ACCEPTED)
    public = set(registry.public_rows(Evidence))
    assert accepted in public and draft not in public
    assert registry.is_public(accepted) and not registry.is_public(draft)
    links = registry.public_rows(EvidenceCitation)
    assert {link.evidence for link in links} == {accepted}
