"""What every curated model's admin shares: history with a reason, timestamps,
autocomplete for many-to-many relations that go through an explicit table."""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import NestedObjects, quote, unquote
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import router, transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_m2m_reverse_field_name

from .admin_history import (
    RevertRefused,
    m2m_at,
    missing_links,
    owned_relations,
    plan_revert,
    timeline,
)


class CuratedForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False,
        max_length=500,
        help_text="Optional: why you made this change (kept in the history).",
        widget=forms.TextInput(attrs={"size": 80}),
    )
    # The row's updated_at when the form was shown: a later save by someone
    # else makes it stale, and this save is refused rather than overwriting.
    edit_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "edit_token" in self.fields:
            self.fields["edit_token"].initial = self._current_token()

    def _current_token(self) -> str:
        model = type(self.instance)
        stamp = (
            model._default_manager.filter(pk=self.instance.pk)
            .values_list("updated_at", flat=True)
            .first()
        )
        return stamp.isoformat() if stamp else ""

    def clean(self):
        cleaned = super().clean()
        token = cleaned.get("edit_token")
        if self.instance.pk and token and token != self._current_token():
            latest = self.instance.history.order_by("-history_date").first()
            who = getattr(latest, "history_user", None) or "someone else"
            when = f"{latest.history_date:%Y-%m-%d %H:%M} UTC" if latest else ""
            self.conflicts = stale_conflicts(self, token, cleaned)
            raise forms.ValidationError(
                f"This record was changed by {who} at {when} after you opened it. "
                "Your changes were not saved, so that theirs stand: reload the "
                "page to see the current version, then make your edit again.",
                code="stale",
            )
        return cleaned


# Bookkeeping a stale-edit comparison leaves out.
_NOT_COMPARED = {"created_at", "updated_at"}


def shown(obj, field) -> str:
    """A field's value as a person reads it: choice labels, related names, "—"."""
    if field.is_relation:
        try:
            value = getattr(obj, field.name, None)
        except ObjectDoesNotExist:  # pointed at a row deleted since
            value = f"#{getattr(obj, field.attname)} (deleted)"
    elif field.choices:
        value = dict(field.flatchoices).get(getattr(obj, field.attname))
    else:
        value = getattr(obj, field.attname)
    if value is None or value == "":
        return "—"
    return str(value)


def stale_conflicts(form, token: str, cleaned: dict) -> list[dict]:
    """The fields someone else changed since the form was shown: what the
    record held then, what they saved, and what this form would have saved."""
    model = type(form.instance)
    try:
        seen_at = datetime.fromisoformat(token)
    except ValueError:
        return []
    seen = (
        form.instance.history.filter(updated_at=seen_at)
        .order_by("-history_date")
        .first()
    )
    now = model._default_manager.filter(pk=form.instance.pk).first()
    if seen is None or now is None:
        return []
    mine = model(
        **{f.attname: getattr(now, f.attname) for f in model._meta.concrete_fields}
    )
    conflicts = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in _NOT_COMPARED:
            continue
        if getattr(seen, field.attname) == getattr(now, field.attname):
            continue
        yours = "(not on this form)"
        if field.name in cleaned:
            setattr(mine, field.name, cleaned[field.name])
            yours = shown(mine, field)
        conflicts.append(
            {
                "field": capfirst(field.verbose_name),
                "before": shown(seen.instance, field),
                "theirs": shown(now, field),
                "yours": yours,
            }
        )
    return conflicts


class ThroughAutocompleteMixin:
    """Let `autocomplete_fields` name many-to-many fields with a through model.

    Django's admin leaves such fields out because a through row could need
    more data; ours hold only the two keys, so `.set()` works and the
    through rows' PROTECT keeps a delete from silently dropping a link.
    """

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        through = db_field.remote_field.through
        if through._meta.auto_created or db_field.name not in self.autocomplete_fields:
            return super().formfield_for_manytomany(db_field, request, **kwargs)
        using = kwargs.get("using")
        kwargs["widget"] = AutocompleteSelectMultiple(
            db_field, self.admin_site, using=using
        )
        kwargs.setdefault(
            "queryset",
            db_field.remote_field.model._default_manager.using(using),
        )
        kwargs.setdefault("required", not db_field.blank)
        return db_field.formfield(**kwargs)


def restore_deleted(record, user):
    """Bring a deleted record back from its history, with its owned rows and
    relations as they were just before the delete. Returns the restored object."""
    model = record.instance_type
    obj = record.instance
    obj._change_reason = "restored from history"
    obj._history_user = user
    insert_as_was(obj)
    # Rows deleted with it by CASCADE: the same operation recorded their end.
    for relation in owned_relations(model):
        child = relation.related_model
        gone = child.history.filter(
            history_type="-",
            operation=record.operation,
            **{relation.field.attname: obj.pk},
        )
        for child_record in gone:
            if not child._default_manager.filter(pk=child_record.id).exists():
                row = child_record.instance
                row._change_reason = "restored from history"
                row._history_user = user
                insert_as_was(row)
    # Many-to-many links kept in the last record before the delete.
    before = (
        model.history.filter(id=obj.pk, history_date__lt=record.history_date)
        .exclude(history_type="-")
        .order_by("-history_date")
        .first()
    )
    for field in getattr(record, "_history_m2m_fields", []) if before else []:
        target = get_m2m_reverse_field_name(field)
        ids = [
            getattr(row, f"{target}_id") for row in getattr(before, field.name).all()
        ]
        getattr(obj, field.name).set(ids)
    return obj


def insert_as_was(obj) -> None:
    """Insert a row brought back from history with the creation time it had.

    `auto_now_add` stamps every insert; a restored record was created when it
    was first created, so the stamp is put back, in its new history row too.
    """
    created_at = getattr(obj, "created_at", None)
    obj.save(force_insert=True)
    if created_at is None:
        return
    model = type(obj)
    model._default_manager.filter(pk=obj.pk).update(created_at=created_at)
    obj.created_at = created_at
    if hasattr(model, "history"):
        newest = model.history.filter(id=obj.pk).order_by("-history_date").first()
        if newest is not None:
            type(newest).objects.filter(pk=newest.pk).update(created_at=created_at)


class DeleteReasonForm(forms.Form):
    change_reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        help_text="Optional: why you delete it (kept in the history).",
        widget=forms.TextInput(attrs={"size": 60}),
    )


def delete_reason(request) -> str:
    form = DeleteReasonForm(request.POST)
    return form.cleaned_data["change_reason"].strip() if form.is_valid() else ""


class CuratedAdmin(ThroughAutocompleteMixin, SimpleHistoryAdmin):
    form = CuratedForm
    readonly_fields = ["created_at", "updated_at"]
    list_per_page = 50
    change_list_template = "admin/curated_change_list.html"
    change_form_template = "admin/curated_change_form.html"
    delete_confirmation_template = "admin/curated_delete_confirmation.html"
    object_history_template = "admin/curated_object_history.html"
    object_history_form_template = "admin/curated_history_form.html"
    object_history_list_template = "admin/curated_object_history_list.html"

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason")
        plan = getattr(request, "her2db_revert", None)
        if reason:
            obj._change_reason = reason
        elif plan:
            obj._change_reason = revert_reason(plan.record)
        super().save_model(request, obj, form, change)

    # Deleting: an optional reason, and a refusal that links what depends.

    def delete_view(self, request, object_id, extra_context=None):
        context = {"reason_form": DeleteReasonForm()} | (extra_context or {})
        return super().delete_view(request, object_id, context)

    def delete_model(self, request, obj):
        obj._change_reason = delete_reason(request) or None
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """One by one, so that each history row keeps the reason."""
        reason = delete_reason(request) or None
        for obj in queryset:
            obj._change_reason = reason
            obj.delete()

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        if protected:
            protected = protected_links(objs, self.admin_site)
        return deleted, counts, perms_needed, protected

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        plan = getattr(request, "her2db_revert", None)
        if plan is None:
            return form
        links = m2m_at(plan.record)

        class RevertForm(form):
            """The version's links, not today's, as the revert form's values."""

            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                for name, ids in links.items():
                    if name in self.fields:
                        self.initial[name] = sorted(ids)

        return RevertForm

    # History: the record's changes with its owned rows', and whole reverts.

    def history_view(self, request, object_id, extra_context=None):
        request.her2db_timeline = timeline(self.model, unquote(object_id))
        context = {"timeline": request.her2db_timeline}
        return super().history_view(request, object_id, context | (extra_context or {}))

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        """Each operation's owned-row changes beside its newest record's own."""
        super().set_history_delta_changes(request, historical_records, **kwargs)
        owned = {
            entry.operation: entry.owned
            for entry in getattr(request, "her2db_timeline", [])
            if entry.operation
        }
        for record in historical_records:
            record.owned_changes = owned.pop(record.operation, [])

    def revert_plan(self, request, record):
        """What reverting to `record` does to owned rows; problems if it cannot."""
        plan = plan_revert(record)
        plan.problems.extend(missing_links(record))
        if not plan.problems and request.method != "POST":
            plan.dry_run(request.user)
        return plan

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        record = get_object_or_404(
            self.model.history, id=unquote(object_id), history_id=version_id
        )
        plan = request.her2db_revert = self.revert_plan(request, record)
        context = {"revert_plan": plan} | (extra_context or {})
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, context)
        if plan.problems:
            messages.error(request, cannot_revert(plan))
            return HttpResponseRedirect(request.path)
        try:
            with transaction.atomic():
                response = super().history_form_view(
                    request, object_id, version_id, context
                )
                if response.status_code == 302 and plan.proposed is None:
                    plan.apply(request.user, revert_reason(record))
        except RevertRefused as refused:
            plan.problems = refused.problems
            messages.error(request, cannot_revert(plan))
            return HttpResponseRedirect(request.path)
        return response

    def revert_disabled(self, request, obj=None):
        plan = getattr(request, "her2db_revert", None)
        if plan is not None and plan.problems:
            return True
        return super().revert_disabled(request, obj)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "deleted/",
                self.admin_site.admin_view(self.deleted_view),
                name="{}_{}_deleted".format(*info),
            ),
            path(
                "deleted/<int:history_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="{}_{}_restore".format(*info),
            ),
            *super().get_urls(),
        ]

    def deleted_records(self):
        history = self.model.history
        live = self.model._default_manager.values("pk")
        # Only each record's last deletion: an older one would restore stale data.
        later = history.filter(
            id=OuterRef("id"), history_date__gt=OuterRef("history_date")
        )
        latest = (
            history.filter(history_type="-").exclude(id__in=live).exclude(Exists(later))
        )
        return latest.order_by("-history_date").select_related("history_user")

    def deleted_view(self, request):
        """Records deleted from this table that an editor can bring back."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "records": self.deleted_records()[:200],
            "can_restore": self.has_delete_permission(request),
        }
        return TemplateResponse(request, "admin/curated_deleted.html", context)

    def restore_view(self, request, history_id):
        if request.method != "POST" or not self.has_delete_permission(request):
            raise PermissionDenied
        record = get_object_or_404(self.deleted_records(), history_id=history_id)
        with transaction.atomic():
            obj = restore_deleted(record, request.user)
        messages.success(request, f"Restored {self.opts.verbose_name} “{obj}”.")
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(
            reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
        )


def protected_links(objs, admin_site) -> list:
    """What keeps these records from being deleted, each linked to its page.

    A dependant that is a row of another record (a claim's agent, a trial's
    arm) is shown as that record, with what ties it.
    """
    from .registry import registry

    obj = objs[0]
    collector = NestedObjects(using=router.db_for_write(type(obj)))
    collector.collect(objs)
    links, seen = [], set()
    for row in collector.protected:
        resource = registry.find(type(row))
        record = resource.owner_of(row) if resource and resource.owner else row
        key = (type(record), record.pk)
        if key in seen:
            continue
        seen.add(key)
        opts = record._meta
        text = f"{capfirst(opts.verbose_name)} {record.pk}: {record}"
        if record is not row:
            text += f" (through its {row._meta.verbose_name})"
        try:
            url = reverse(
                f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[quote(record.pk)],
            )
        except NoReverseMatch:
            links.append(text)
            continue
        links.append(format_html('<a href="{}">{}</a>', url, text))
    return links


def revert_reason(record) -> str:
    return f"reverted to the version of {record.history_date:%Y-%m-%d %H:%M} UTC"


def cannot_revert(plan) -> str:
    return "This version cannot be restored whole, so nothing was reverted: " + (
        " ".join(plan.problems)
    )


def external_link(url: str, text: str):
    if not url:
        return "—"
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)


def warning_icon(flagged: bool, text: str):
    """A list column's warning sign: the alert icon when flagged, else nothing
    (the admin's green tick would read as "all is well")."""
    if not flagged:
        return ""
    return format_html(
        '<img src="{}" alt="{}" title="{}">',
        static("admin/img/icon-alert.svg"),
        text,
        text,
    )
