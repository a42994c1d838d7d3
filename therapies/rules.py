"""Rules one record keeps with the rows it owns, checked whenever it is written.

Each function takes a record's values and its rows as they would be saved
(plain values, so the API's validated data, the admin's forms and the
importers can all call it) and returns the problems by field, {} when there
are none. `check_data` calls the same functions for every stored record and
keeps to itself only the rules that span records. Rules that need nothing
but the record's own fields are in its model's `clean()` (one root per
mechanism category) or its fields' validators (identifier formats).
"""

from collections.abc import Iterable, Mapping

from django.db.models import Exists, OuterRef

from .models import Agent, Approval, TrialArm

# Arms that give no agent: placebo, sham and observation arms (and, below,
# physician's-choice arms whose options the registry does not fix).
NO_AGENT_ROLES = frozenset(
    {
        TrialArm.Role.NO_INTERVENTION,
        TrialArm.Role.PLACEBO_COMPARATOR,
        TrialArm.Role.SHAM_COMPARATOR,
    }
)
NO_ARMS = "A trial has at least one arm."
NO_AGENTS = (
    "An arm gives at least one agent, unless it is a placebo, sham, "
    "no-intervention or physician's-choice arm."
)
NO_APPROVAL = "An approved agent has at least one approval; add it first."
LAST_APPROVAL = (
    "{agent} is marked approved and this is its only approval: add another, "
    "or change its development status, first."
)
NO_APPROVAL_SOURCE = (
    "An approval of a HER2-positive breast cancer indication cites its label or "
    "its trial: give a citation or a trial."
)


def arm_problems(role: str, physicians_choice: bool, agents: Iterable) -> dict:
    """One arm of a trial: it names the agents it gives."""
    if list(agents) or physicians_choice or role in NO_AGENT_ROLES:
        return {}
    return {"agents": [NO_AGENTS]}


def trial_problems(arms: list[Mapping]) -> dict:
    """A trial with its arms (each with role, physicians_choice and agents).

    Errors of one arm are under its position in the list, as the API's are.
    """
    if not arms:
        return {"arms": [NO_ARMS]}
    errors = {}
    for index, arm in enumerate(arms):
        problems = arm_problems(
            arm.get("role", TrialArm.Role.EXPERIMENTAL),
            arm.get("physicians_choice", False),
            arm.get("agents", ()),
        )
        if problems:
            errors[index] = problems
    return {"arms": errors} if errors else {}


def stored_trial_problems(trial) -> dict:
    """trial_problems of a trial and its arms as they are in the database."""
    return trial_problems(
        [
            {
                "role": arm.role,
                "physicians_choice": arm.physicians_choice,
                "agents": arm.agents.all(),
            }
            for arm in trial.arms.all()
        ]
    )


def agent_problems(development_status: str, approvals: list) -> dict:
    """An agent with its approvals: approved means an approval is on record."""
    if development_status == Agent.Status.APPROVED and not approvals:
        return {"development_status": [NO_APPROVAL]}
    return {}


def agents_left_unapproved(approvals: Iterable) -> list:
    """Agents marked approved that would have no approval left without these
    (deleted, or moved to another agent)."""
    pks = [approval.pk for approval in approvals]
    others = Approval.objects.filter(agent=OuterRef("pk")).exclude(pk__in=pks)
    return list(
        Agent.objects.filter(
            development_status=Agent.Status.APPROVED, approvals__pk__in=pks
        )
        .exclude(Exists(others))
        .distinct()
    )


def approval_problems(her2_positive_breast: bool, citation, trial) -> dict:
    """One approval: a HER2-positive breast cancer indication says what it rests on.

    Checked on the approvals a write adds or changes (see changed_rows), so
    that shipped approvals not yet cited leave their agent editable; check_data
    reports them all.
    """
    if her2_positive_breast and citation is None and trial is None:
        return {"citation": [NO_APPROVAL_SOURCE]}
    return {}
