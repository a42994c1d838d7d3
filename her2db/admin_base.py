"""What every curated model's admin shares: history with a reason, timestamps,
autocomplete for many-to-many relations that go through an explicit table."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin


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
            when = (
                latest.history_date.strftime("%Y-%m-%d %H:%M:%S UTC") if latest else ""
            )
            raise forms.ValidationError(
                f"This record was changed by {who} at {when} after you opened it. "
                "Your changes were not saved, so that theirs stand: reload the "
                "page to see the current version, then make your edit again.",
                code="stale",
            )
        return cleaned


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


class CuratedAdmin(ThroughAutocompleteMixin, SimpleHistoryAdmin):
    form = CuratedForm
    readonly_fields = ["created_at", "updated_at"]
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason")
        if reason:
            obj._change_reason = reason
        super().save_model(request, obj, form, change)


def external_link(url: str, text: str):
    if not url:
        return "—"
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)
