"""The admin home page's work list and recent changes."""

from django import template

from therapies.workbench import recent_changes, work_list

register = template.Library()


@register.simple_tag(takes_context=True)
def her2db_work_list(context):
    return work_list(context["request"].user)


@register.simple_tag
def her2db_recent_changes(limit: int = 15):
    return recent_changes(limit)
