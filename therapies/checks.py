"""Integrity checks of the curated data (the check_data command, the fixture
build): each check yields a sentence per problem it finds."""

import re
import unicodedata
from collections import defaultdict

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Count

from references.models import Author, Citation
from therapies.groups import curated_models
from therapies.models import Approval, Evidence, Mechanism, Trial
from therapies.rules import stored_trial_problems


def fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a name or title."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def evidence_without_citation():
    for evidence in Evidence.objects.annotate(n=Count("evidence_citations")).filter(
        n=0
    ):
        yield f"evidence {evidence.uid}: cites nothing"


def evidence_without_agent():
    for evidence in Evidence.objects.annotate(n=Count("evidence_agents")).filter(n=0):
        yield f"evidence {evidence.uid}: names no agent"


def trials_breaking_their_rules():
    """Each trial against the rules its writes are held to (therapies/rules.py)."""
    for trial in Trial.objects.prefetch_related("arms__agents"):
        arms = list(trial.arms.all())
        problems = stored_trial_problems(trial).get("arms", {})
        if not arms and problems:
            yield f"trial {trial}: has no arms"
        for index in problems if arms else ():
            yield f"trial {trial} arm {arms[index].label!r}: gives no agent"


def malformed_fields():
    """Every stored value against its field's validators (identifier formats)."""
    for model in curated_models(apps):
        for obj in model._default_manager.all():
            try:
                obj.clean_fields()
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    value = getattr(obj, field, "")
                    yield (
                        f"{model._meta.verbose_name} {obj}: {field} {value!r}: "
                        + " ".join(messages)
                    )


def mechanisms_outside_the_tree():
    mechanisms = {m.pk: m for m in Mechanism.objects.all()}
    roots_by_category = defaultdict(list)
    for mechanism in mechanisms.values():
        seen, node = set(), mechanism
        while node.parent_id is not None:
            if node.pk in seen:
                yield f"mechanism {mechanism.slug}: its ancestry is a cycle"
                break
            seen.add(node.pk)
            parent = mechanisms[node.parent_id]
            if parent.category != node.category:
                yield (
                    f"mechanism {node.slug}: category {node.category} differs from "
                    f"its parent {parent.slug} ({parent.category})"
                )
            node = parent
        if mechanism.parent_id is None:
            roots_by_category[mechanism.category].append(mechanism.slug)
    for category, roots in roots_by_category.items():
        if len(roots) > 1:
            yield (
                f"mechanisms {', '.join(sorted(roots))}: several roots in category "
                f"{category}; all but one stand outside the tree"
            )


def approvals_incomplete():
    for approval in Approval.objects.select_related("agent"):
        if not approval.agency or not approval.date or not approval.indication:
            yield f"approval {approval}: lacks agency, date or indication"


def duplicate_authors():
    groups = defaultdict(list)
    for author in Author.objects.all():
        groups[(fold(author.family_name), fold(author.given_name))].append(str(author))
    for names in groups.values():
        if len(names) > 1:
            yield f"authors {' / '.join(names)}: the same person under two spellings?"


def duplicate_citations():
    groups = defaultdict(list)
    for citation in Citation.objects.only("citekey", "title"):
        groups[fold(citation.title)].append(citation.citekey)
    for keys in groups.values():
        if len(keys) > 1:
            yield f"citations {', '.join(sorted(keys))}: the same title twice"


CHECKS = [
    evidence_without_citation,
    evidence_without_agent,
    trials_breaking_their_rules,
    malformed_fields,
    mechanisms_outside_the_tree,
    approvals_incomplete,
    duplicate_authors,
    duplicate_citations,
]


def find_problems() -> list[str]:
    return [problem for check in CHECKS for problem in check()]
