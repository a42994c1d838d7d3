"""Reading and posting back admin change pages as a browser would."""

from django.contrib.messages import get_messages
from django.urls import reverse


def form_data(response) -> dict:
    """What the browser would post back for a change page, untouched."""
    data = {}

    def put(form, name):
        value = form[name].value()
        if value is None or value is False:
            return
        if value is True:
            value = "on"
        elif isinstance(value, list | tuple):
            value = [str(v) for v in value]
        else:
            value = str(value)
        data[form.add_prefix(name)] = value

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for row in formset.forms:
            for name in row.fields:
                put(row, name)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(evidence) -> str:
    return reverse("admin:therapies_evidence_change", args=[evidence.pk])
