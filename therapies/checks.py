"""Integrity checks of the curated data (the check_data command, the fixture
build): each check yields a sentence per problem it finds.

Each check is a few set queries (filters with EXISTS, aggregates, one pass
over a column's values), never a query or a model instance a row, so
check_data takes seconds at 100,000 citations (`make bench-check`). Only the
rows found wrong are read in full, to name them.

PROBLEMS break a rule the data keeps (check_data fails on any). GAPS are
rules the shipped data does not meet yet (HER2-positive breast approvals
citing neither label nor trial, estimated completion dates that have
passed, initials without full stops, one person under two spellings):
reported, failing check_data only with --strict until
the data is complete.
"""

import re
import unicodedata
from collections import defaultdict

from django.apps import apps
from django.core import validators as django_validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Abs, Length, Substr
from django.utils import timezone

from references.models import Author, Citation, DistinctAuthors
from references.names import (
    compatible,
    dotted_initials,
    initials_of,
    needs_stops,
    split_suffix,
)
from therapies.groups import curated_models
from therapies.models import (
    Agent,
    Approval,
    Evidence,
    EvidenceAgent,
    EvidenceCitation,
    Mechanism,
    Outcome,
    OutcomeArmResult,
    Trial,
    TrialArm,
    TrialArmAgent,
)
from therapies.models.outcomes import interval_problems
from therapies.rules import NO_AGENT_ROLES


def fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a name or title."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def missing(model, related: str, **lookups) -> Exists:
    """Rows with no `model` row pointing at them through `related`."""
    return ~Exists(model.objects.filter(**{related: OuterRef("pk")}, **lookups))


# --- Rules of one record and its rows ---------------------------------------------


def evidence_without_citation():
    rows = Evidence.objects.filter(missing(EvidenceCitation, "evidence"))
    for uid in rows.values_list("uid", flat=True):
        yield f"evidence {uid}: cites nothing"


def evidence_without_agent():
    rows = Evidence.objects.filter(missing(EvidenceAgent, "evidence"))
    for uid in rows.values_list("uid", flat=True):
        yield f"evidence {uid}: names no agent"


def trials_breaking_their_rules():
    """The rules of therapies/rules.py (trial_problems), as set queries."""
    for trial in Trial.objects.filter(missing(TrialArm, "trial")).only(
        "nct_id", "acronym"
    ):
        yield f"trial {trial}: has no arms"
    bare = (
        TrialArm.objects.filter(missing(TrialArmAgent, "arm"), physicians_choice=False)
        .exclude(role__in=NO_AGENT_ROLES)
        .select_related("trial")
        .only("label", "trial__nct_id", "trial__acronym")
    )
    for arm in bare:
        yield f"trial {arm.trial} arm {arm.label!r}: gives no agent"


def trial_dates_untyped():
    """The rules of Trial.clean on its dates' types, as set queries: a date
    says whether it is actual or estimated, a type has its date, and a trial
    that has ended has an actual completion date."""
    for field in ("start_date", "completion_date"):
        kind = f"{field}_type"
        rows = Trial.objects.filter(
            (~Q(**{field: ""}) & Q(**{kind: ""}))
            | (Q(**{field: ""}) & ~Q(**{kind: ""}))
        ).order_by("nct_id")
        for trial in rows.only("nct_id", "acronym", field, kind):
            date, marked = getattr(trial, field), getattr(trial, kind)
            if date:
                yield (
                    f"trial {trial}: {field} {date} is not marked actual or estimated"
                )
            else:
                yield f"trial {trial}: {kind} {marked} with no {field}"
    ended = Trial.objects.filter(
        status__in=Trial.FINISHED, completion_date_type=Trial.DateType.ESTIMATED
    ).order_by("nct_id")
    for trial in ended.only("nct_id", "acronym", "status"):
        yield (
            f"trial {trial}: {trial.get_status_display().lower()}, with an "
            "estimated completion date"
        )


def approved_without_approval():
    """The rule of therapies/rules.py (agent_problems), as a set query."""
    rows = Agent.objects.filter(
        missing(Approval, "agent"), development_status=Agent.Status.APPROVED
    )
    for slug in rows.values_list("slug", flat=True):
        yield f"agent {slug}: marked approved, with no approval on record"


def empty_value(field) -> Q:
    """Rows where the field holds nothing (validators skip those)."""
    found = Q(**{f"{field.name}__isnull": True})
    if isinstance(field, models.CharField | models.TextField):
        found |= Q(**{field.name: ""})
    return found


def suspects(field) -> tuple[Q, list]:
    """(rows whose value this field's validation may refuse, validators left
    for Python): full_clean's rules (blank, choices, each validator) as SQL.

    A validator SQL cannot state (a URL's form) is run in Python on the
    column's distinct values, which is one query whatever the rows.
    """
    name, empty = field.name, empty_value(field)
    found, rest = Q(pk__in=[]), []
    if not field.blank and isinstance(field, models.CharField | models.TextField):
        found |= Q(**{name: ""})
    if field.choices:
        valid = [value for value, _ in field.flatchoices]
        wrong_choice = ~Q(**{f"{name}__in": valid})
        found |= wrong_choice & ~empty if field.blank else wrong_choice
    for validator in field.validators:
        kind = type(validator)
        if kind is django_validators.RegexValidator and not validator.inverse_match:
            found |= ~Q(**{f"{name}__regex": validator.regex.pattern}) & ~empty
        elif kind is django_validators.MaxLengthValidator:
            found |= Q(**{f"{name}__length__gt": validator.limit_value})
        elif kind is django_validators.MinValueValidator:
            found |= Q(**{f"{name}__lt": validator.limit_value})
        elif kind is django_validators.MaxValueValidator:
            found |= Q(**{f"{name}__gt": validator.limit_value})
        elif kind is django_validators.DecimalValidator:
            whole = validator.max_digits - validator.decimal_places
            found |= Q(**{f"{name}__abs__gte": 10**whole})
        else:
            rest.append(validator)
    return found, rest


def bad_values(model, field, rest) -> list:
    """Distinct values of a column that one of `rest` refuses."""
    wrong = []
    values = model._default_manager.exclude(empty_value(field))
    for value in values.values_list(field.name, flat=True).distinct():
        for validator in rest:
            try:
                validator(value)
            except ValidationError:
                wrong.append(value)
                break
    return wrong


models.CharField.register_lookup(Length)
models.TextField.register_lookup(Length)
models.DecimalField.register_lookup(Abs)


def malformed_fields():
    """Every stored value against its field's validation (identifier formats,
    choices, lengths, ranges): candidates by SQL, named by full_clean."""
    for model in curated_models(apps):
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.is_relation and not f.primary_key and f.editable
        ]
        wrong = Q(pk__in=[])
        for field in fields:
            found, rest = suspects(field)
            wrong |= found
            if rest:
                wrong |= Q(**{f"{field.name}__in": bad_values(model, field, rest)})
        relations = [f.name for f in model._meta.concrete_fields if f.is_relation]
        for obj in model._default_manager.filter(wrong).order_by("pk"):
            try:
                obj.clean_fields(exclude=relations)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    value = getattr(obj, field, "")
                    yield (
                        f"{model._meta.verbose_name} {obj}: {field} {value!r}: "
                        + " ".join(messages)
                    )


def mechanisms_outside_the_tree():
    mismatched = (
        Mechanism.objects.filter(parent__isnull=False)
        .exclude(category=F("parent__category"))
        .values_list("slug", "category", "parent__slug", "parent__category")
    )
    for slug, category, parent, parent_category in mismatched:
        yield (
            f"mechanism {slug}: category {category} differs from "
            f"its parent {parent} ({parent_category})"
        )
    # A cycle has no root to hang from: walk the (pk, parent) pairs once.
    parents = dict(Mechanism.objects.values_list("pk", "parent_id"))
    slugs = dict(Mechanism.objects.values_list("pk", "slug"))
    rooted, cyclic = set(), set()
    for pk in parents:
        path, node = [], pk
        while node is not None and node not in rooted and node not in cyclic:
            if node in path:
                cyclic.update(path)
                break
            path.append(node)
            node = parents[node]
        else:
            (cyclic if node in cyclic else rooted).update(path)
    for pk in sorted(cyclic, key=slugs.get):
        yield f"mechanism {slugs[pk]}: its ancestry is a cycle"
    several = (
        Mechanism.objects.filter(parent__isnull=True)
        .values("category")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("category")
    )
    roots = defaultdict(list)
    for category, slug in Mechanism.objects.filter(
        parent__isnull=True, category__in=several
    ).values_list("category", "slug"):
        roots[category].append(slug)
    for category, slugs_ in roots.items():
        yield (
            f"mechanisms {', '.join(sorted(slugs_))}: several roots in category "
            f"{category}; all but one stand outside the tree"
        )


def approvals_incomplete():
    rows = Approval.objects.filter(
        Q(agency="") | Q(date__isnull=True) | Q(indication="")
    ).select_related("agent")
    for approval in rows:
        yield f"approval {approval}: lacks agency, date or indication"


def outcomes_breaking_their_rules():
    """The rules of therapies/models/outcomes.py on stored outcomes."""
    outside = (
        Q(ci_lower__gt=F("ci_upper"))
        | Q(estimate__lt=F("ci_lower"))
        | Q(estimate__gt=F("ci_upper"))
    )
    for outcome in Outcome.objects.filter(
        outside | Q(p_value__lt=0) | Q(p_value__gt=1)
    ):
        problems = interval_problems(
            outcome.estimate, outcome.ci_lower, outcome.ci_upper, "estimate"
        )
        if outcome.p_value is not None and not 0 <= outcome.p_value <= 1:
            problems["p_value"] = ["A p-value lies between 0 and 1."]
        for field, messages in problems.items():
            yield f"outcome {outcome.uid} ({outcome}): {field}: {' '.join(messages)}"
    values = OutcomeArmResult.objects.select_related("outcome__trial", "arm")
    outside = (
        Q(ci_lower__gt=F("ci_upper"))
        | Q(value__lt=F("ci_lower"))
        | Q(value__gt=F("ci_upper"))
    )
    for result in values.filter(outside):
        problems = interval_problems(
            result.value, result.ci_lower, result.ci_upper, "value"
        )
        for field, messages in problems.items():
            yield (
                f"outcome {result.outcome.uid} arm {result.arm.label!r}: "
                f"{field}: {' '.join(messages)}"
            )
    for result in values.select_related("arm__trial").exclude(
        arm__trial=F("outcome__trial")
    ):
        yield (
            f"outcome {result.outcome.uid} ({result.outcome}): arm "
            f"{result.arm.label!r} is an arm of {result.arm.trial}, not of its trial"
        )


def duplicate_authors():
    groups = defaultdict(list)
    for family, given, suffix in Author.objects.values_list(
        "family_name", "given_name", "suffix"
    ):
        name = " ".join(part for part in (family, given, suffix) if part)
        groups[(fold(family), fold(given))].append(name)
    for names in groups.values():
        if len(names) > 1:
            yield f"authors {' / '.join(names)}: the same person under two spellings?"


def duplicate_citations():
    groups = defaultdict(list)
    for citekey, title in Citation.objects.values_list("citekey", "title"):
        groups[fold(title)].append(citekey)
    for keys in groups.values():
        if len(keys) > 1:
            yield f"citations {', '.join(sorted(keys))}: the same title twice"


# --- Gaps: rules the shipped data does not meet yet ------------------------------


def her2_approvals_uncited():
    rows = Approval.objects.filter(
        her2_positive_breast=True, citation__isnull=True, trial__isnull=True
    ).select_related("agent")
    for approval in rows:
        yield (
            f"approval {approval}: a HER2-positive breast cancer approval that "
            "cites neither its label nor its trial"
        )


def estimates_passed(today=None):
    """Estimated completion dates that have passed: the registry has a newer
    one, or the actual date. A date to the month or year passes when that
    month or year has ended (compared on as many characters as it has)."""
    today = (today or timezone.localdate()).isoformat()
    passed = Trial.objects.filter(
        completion_date_type=Trial.DateType.ESTIMATED,
        completion_date__lt=Substr(models.Value(today), 1, Length("completion_date")),
    ).order_by("nct_id")
    for trial in passed.only("nct_id", "acronym", "completion_date"):
        yield (
            f"trial {trial}: estimated completion {trial.completion_date} has "
            "passed; read the registry again"
        )


def initials_without_stops():
    people = Author.objects.filter(is_collective=False).exclude(given_name="")
    for family, given in people.values_list("family_name", "given_name"):
        if needs_stops(given):
            yield (
                f"author {family} {given}: initials without full stops; "
                f"write {dotted_initials(given)!r}"
            )


def suffix_in_given_name():
    people = Author.objects.filter(is_collective=False).exclude(given_name="")
    for family, given in people.values_list("family_name", "given_name"):
        stored, suffix = split_suffix(given)
        if suffix:
            yield (
                f"author {family} {given}: a suffix in the given name; write "
                f"given name {stored!r} and suffix {suffix!r}"
            )


def one_person_two_spellings():
    """Same family name, initials one of which begins the other's ("Benyunes M"
    and "Benyunes M. C.", "Aftimos" and "Aftimos P."); exact twins are
    duplicate_authors'. Pairs a curator marked as different people are not
    asked about again."""
    distinct = DistinctAuthors.objects.name_pairs()
    people = defaultdict(lambda: defaultdict(list))
    for family, given in Author.objects.filter(is_collective=False).values_list(
        "family_name", "given_name"
    ):
        people[fold(family)][initials_of(given)].append((family, given))
    for by_initials in people.values():
        names = [(i, name) for i, group in by_initials.items() for name in group]
        if len(names) < 2:
            continue  # the common case: one spelling of a family name
        for initials, (family, given) in names:
            # Others whose initials begin these: the same initials, or fewer.
            for length in range(len(initials) + 1):
                for other in by_initials.get(initials[:length], ()):
                    if length == len(initials) and other <= (family, given):
                        continue  # a pair in one group: once
                    if frozenset({(family, given), other}) in distinct:
                        continue
                    if fold(given) != fold(other[1]) and compatible(given, other[1]):
                        pair = sorted(
                            [f"{family} {given}".strip(), " ".join(other).strip()]
                        )
                        yield f"authors {' / '.join(pair)}: one person, two spellings?"


CHECKS = [
    evidence_without_citation,
    evidence_without_agent,
    trials_breaking_their_rules,
    trial_dates_untyped,
    approved_without_approval,
    malformed_fields,
    mechanisms_outside_the_tree,
    approvals_incomplete,
    outcomes_breaking_their_rules,
    duplicate_authors,
    duplicate_citations,
]
GAPS = [
    her2_approvals_uncited,
    estimates_passed,
    initials_without_stops,
    suffix_in_given_name,
    one_person_two_spellings,
]


def find_problems() -> list[str]:
    return [problem for check in CHECKS for problem in check()]


def find_gaps() -> list[str]:
    return [gap for check in GAPS for gap in check()]
