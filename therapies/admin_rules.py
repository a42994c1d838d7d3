"""The single-record rules (therapies/rules.py) in the admin's inline forms.

A trial's arms and an agent's approvals are edited inline, so the rules that
tie a record to its rows are checked where the admin sees all of them: in the
inline formset, with each problem shown on the arm or the list it is about.
"""

from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .rules import agent_problems, approval_problems, trial_problems


def kept_forms(formset) -> list:
    """The inline forms that will be saved (filled in, not marked for deletion)."""
    return [
        form
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


def check_approval(form) -> None:
    """An approval's form, when it adds or changes one (shipped approvals not
    yet cited stay editable): the errors of approval_problems on its fields."""
    if not form.has_changed():
        return
    data = form.cleaned_data
    problems = approval_problems(
        data.get("her2_positive_breast", False), data.get("citation"), data.get("trial")
    )
    for field, messages in problems.items():
        form.add_error(field, messages)


class TrialArmFormSet(BaseInlineFormSet):
    """A trial's arms: at least one, each giving agents unless it need not."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        forms = kept_forms(self)
        arms = [
            {
                "role": form.cleaned_data.get("role"),
                "physicians_choice": form.cleaned_data.get("physicians_choice", False),
                "agents": form.cleaned_data.get("agents") or (),
            }
            for form in forms
        ]
        problems = trial_problems(arms).get("arms")
        if isinstance(problems, list):  # no arms at all
            raise ValidationError(problems)
        for index, errors in (problems or {}).items():
            for field, messages in errors.items():
                forms[index].add_error(field, messages)


class ApprovalFormSet(BaseInlineFormSet):
    """An agent's approvals: an agent marked approved keeps at least one."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        for form in kept_forms(self):
            check_approval(form)
        if any(self.errors):
            return
        problems = agent_problems(self.instance.development_status, kept_forms(self))
        if problems:
            raise ValidationError(problems["development_status"])
