"""check_data's rules as they were written before the set queries: row by
row, with model instances and full_clean. The tests' oracle: the set queries
of therapies/checks.py must find exactly what these find."""

from collections import defaultdict

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from references.models import Author, Citation, DistinctAuthors
from references.names import compatible, dotted_initials, needs_stops, split_suffix
from therapies import checks
from therapies.checks import fold
from therapies.groups import curated_models
from therapies.models import (
    Agent,
    Approval,
    Evidence,
    Mechanism,
    Outcome,
    OutcomeArmResult,
    Trial,
)
from therapies.models.outcomes import interval_problems
from therapies.rules import stored_trial_problems


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


def trial_dates_untyped():
    """Trial.clean's verdict on its dates' types, row by row."""
    for trial in Trial.objects.order_by("nct_id"):
        try:
            trial.clean()
            continue
        except ValidationError as exc:
            errors = exc.message_dict
        for field in ("start_date", "completion_date"):
            date, kind = getattr(trial, field), getattr(trial, f"{field}_type")
            if f"{field}_type" not in errors:
                continue
            if date and not kind:
                yield f"trial {trial}: {field} {date} is not marked actual or estimated"
            elif kind and not date:
                yield f"trial {trial}: {field}_type {kind} with no {field}"
        if (
            "completion_date_type" in errors
            and trial.completion_date
            and trial.completion_date_type == Trial.DateType.ESTIMATED
        ):
            yield (
                f"trial {trial}: {trial.get_status_display().lower()}, with an "
                "estimated completion date"
            )


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


def outcomes_breaking_their_rules():
    for outcome in Outcome.objects.all():
        problems = interval_problems(
            outcome.estimate, outcome.ci_lower, outcome.ci_upper, "estimate"
        )
        if outcome.p_value is not None and not 0 <= outcome.p_value <= 1:
            problems["p_value"] = ["A p-value lies between 0 and 1."]
        for field, messages in problems.items():
            yield f"outcome {outcome.uid} ({outcome}): {field}: {' '.join(messages)}"
    for result in OutcomeArmResult.objects.all():
        problems = interval_problems(
            result.value, result.ci_lower, result.ci_upper, "value"
        )
        for field, messages in problems.items():
            yield (
                f"outcome {result.outcome.uid} arm {result.arm.label!r}: "
                f"{field}: {' '.join(messages)}"
            )
        if result.arm.trial_id != result.outcome.trial_id:
            yield (
                f"outcome {result.outcome.uid} ({result.outcome}): arm "
                f"{result.arm.label!r} is an arm of {result.arm.trial}, not of its "
                "trial"
            )


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


def approved_without_approval():
    for agent in Agent.objects.all():
        if agent.development_status == "APPROVED" and not agent.approvals.exists():
            yield f"agent {agent.slug}: marked approved, with no approval on record"


def her2_approvals_uncited():
    for approval in Approval.objects.all():
        if approval.her2_positive_breast and not (approval.citation or approval.trial):
            yield (
                f"approval {approval}: a HER2-positive breast cancer approval that "
                "cites neither its label nor its trial"
            )


def estimates_passed(today=None):
    today = (today or timezone.localdate()).isoformat()
    for trial in Trial.objects.order_by("nct_id"):
        date = trial.completion_date
        if (
            trial.completion_date_type == Trial.DateType.ESTIMATED
            and date < today[: len(date)]
        ):
            yield (
                f"trial {trial}: estimated completion {date} has passed; "
                "read the registry again"
            )


def initials_without_stops():
    for author in Author.objects.all():
        given = author.given_name
        if not author.is_collective and given and needs_stops(given):
            yield (
                f"author {author.family_name} {given}: initials "
                f"without full stops; write {dotted_initials(given)!r}"
            )


def suffix_in_given_name():
    for author in Author.objects.all():
        given = author.given_name
        stored, suffix = split_suffix(given)
        if not author.is_collective and suffix:
            yield (
                f"author {author.family_name} {given}: a suffix in the given "
                f"name; write given name {stored!r} and suffix {suffix!r}"
            )


def one_person_two_spellings():
    people = [a for a in Author.objects.all() if not a.is_collective]
    for index, first in enumerate(people):
        for second in people[index + 1 :]:
            if DistinctAuthors.objects.of_pair(first, second).exists():
                continue
            if (
                fold(first.family_name) == fold(second.family_name)
                and fold(first.given_name) != fold(second.given_name)
                and compatible(first.given_name, second.given_name)
            ):
                names = sorted(
                    [
                        f"{first.family_name} {first.given_name}".strip(),
                        f"{second.family_name} {second.given_name}".strip(),
                    ]
                )
                yield f"authors {' / '.join(names)}: one person, two spellings?"


# The same rules in the same order: a rule without its row-by-row twin here
# is a KeyError, so the comparison test cannot skip one.
CHECKS = [globals()[check.__name__] for check in checks.CHECKS]
GAPS = [globals()[check.__name__] for check in checks.GAPS]


def find_problems() -> list[str]:
    return [problem for check in CHECKS for problem in check()]


def find_gaps() -> list[str]:
    return [gap for check in GAPS for gap in check()]
