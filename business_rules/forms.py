"""Admin forms for triggers: a field select, an operator select and a value per row, checked
together on save (the browser-side filtering in trigger_admin.js is only a convenience)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .actions import ACTION_CHOICES, ACTIONS, action_value_choices, clean_action
from .conditions import (
    AUTOMATION,
    FIELD_CHOICES,
    NO_VALUE,
    OPERATOR_CHOICES,
    OPERATORS,
    SLA,
    TIME_COLUMNS,
    TRIGGER,
    clean_condition,
    fields_for,
    operators_for,
    value_choices,
)
from .models import (
    AutomationAction,
    AutomationCondition,
    SlaPolicyCondition,
    TriggerAction,
    TriggerCondition,
)

# A blank first choice keeps the admin's unused extra rows unchanged, so they are skipped.
BLANK = [("", "---------")]


def _attach(form: forms.Form, exc: ValidationError) -> None:
    """Put a ValidationError raised with a {field: message} dict on the form's fields."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ConditionForm(forms.ModelForm):
    # The rule family whose condition fields the form offers (conditions.Field.rules).
    rules = TRIGGER
    field = forms.ChoiceField(choices=BLANK + FIELD_CHOICES, widget=forms.Select(attrs={"class": "br-field"}))
    operator = forms.ChoiceField(choices=BLANK + OPERATOR_CHOICES, widget=forms.Select(attrs={"class": "br-operator"}))
    value = forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "br-value"}))

    class Meta:
        model = TriggerCondition
        fields = ["field", "operator", "value", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = BLANK + [(name, f.label) for name, f in fields_for(self.rules).items()]

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("field"):
            return data
        try:
            data["value"] = clean_condition(data["field"], data["operator"], data.get("value", ""), self.rules)
        except ValidationError as exc:
            _attach(self, exc)
        return data


class ActionForm(forms.ModelForm):
    action = forms.ChoiceField(choices=BLANK + ACTION_CHOICES, widget=forms.Select(attrs={"class": "br-action"}))
    value = forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "br-value"}))
    subject = forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "br-subject", "size": 40}))
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"class": "br-body", "rows": 3, "cols": 50}))

    class Meta:
        model = TriggerAction
        fields = ["action", "value", "subject", "body", "position"]

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("action"):
            return data
        try:
            data["value"], data["subject"], data["body"] = clean_action(
                data["action"], data.get("value", ""), data.get("subject", ""), data.get("body", "")
            )
        except ValidationError as exc:
            _attach(self, exc)
        return data


def _live_forms(formset) -> list[forms.Form]:
    """Rows that will exist after the save: kept existing ones and filled-in new ones."""
    return [
        f
        for f in formset.forms
        if not getattr(f, "cleaned_data", {}).get("DELETE") and (f.instance.pk or f.has_changed())
    ]


class ConditionFormSet(forms.BaseInlineFormSet):
    """One of the two condition lists ("all" or "any"); both live in TriggerCondition."""

    kind = TriggerCondition.Kind.ALL
    other_prefix = "any_conditions"

    @classmethod
    def get_default_prefix(cls) -> str:
        return f"{cls.kind}_conditions"

    def get_queryset(self):
        return super().get_queryset().filter(kind=self.kind)

    def save_new(self, form, commit=True):
        form.instance.kind = self.kind
        return super().save_new(form, commit=commit)

    def clean(self):
        super().clean()
        if self.kind == TriggerCondition.Kind.ALL and not _live_forms(self) and not self._other_has_rows():
            raise ValidationError("Give the trigger at least one condition.")

    def _other_has_rows(self) -> bool:
        """Whether the "any" list (another formset, posted alongside) keeps any row."""
        total = self.data.get(f"{self.other_prefix}-TOTAL_FORMS", "0")
        count = int(total) if str(total).isdigit() else 0
        for i in range(count):
            row = f"{self.other_prefix}-{i}-"
            if self.data.get(row + "field") and not self.data.get(row + "DELETE"):
                return True
        return False


class AnyConditionFormSet(ConditionFormSet):
    kind = TriggerCondition.Kind.ANY
    other_prefix = "all_conditions"


class ActionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not _live_forms(self):
            raise ValidationError("Give the trigger at least one action.")


def admin_schema(rules: str = TRIGGER) -> dict:
    """What trigger_admin.js needs to offer only the operators and values that fit a field."""
    return {
        "operators": OPERATORS,
        "noValue": sorted(NO_VALUE),
        "fields": {
            name: {"operators": operators_for(f, rules), "choices": value_choices(f), "help": f.help}
            for name, f in fields_for(rules).items()
        },
        "actions": {
            name: {
                "choices": action_value_choices(spec),
                "hasValue": bool(spec.value_kind),
                "subject": spec.needs_subject,
                "body": spec.needs_body,
            }
            for name, spec in ACTIONS.items()
        },
    }


# --- Automations and SLA policies: the same rows, their own families -------------------


class AutomationConditionForm(ConditionForm):
    rules = AUTOMATION

    class Meta(ConditionForm.Meta):
        model = AutomationCondition


class AutomationActionForm(ActionForm):
    class Meta(ActionForm.Meta):
        model = AutomationAction


class AutomationConditionFormSet(ConditionFormSet):
    def clean(self):
        forms.BaseInlineFormSet.clean(self)
        fields = {f.cleaned_data.get("field") for f in _live_forms(self)}
        if self.kind == AutomationCondition.Kind.ALL and not fields & set(TIME_COLUMNS):
            # Without one the automation would act on every matching ticket at once, and
            # its firing could not tell one condition state from the next.
            raise ValidationError(
                "Give the automation at least one time condition (hours since… or SLA hours) in this list."
            )


class AnyAutomationConditionFormSet(AutomationConditionFormSet):
    kind = AutomationCondition.Kind.ANY
    other_prefix = "all_conditions"


class AutomationActionFormSet(ActionFormSet):
    def clean(self):
        forms.BaseInlineFormSet.clean(self)
        if not _live_forms(self):
            raise ValidationError("Give the automation at least one action.")


class SlaConditionForm(ConditionForm):
    rules = SLA

    class Meta(ConditionForm.Meta):
        model = SlaPolicyCondition


class SlaConditionFormSet(ConditionFormSet):
    def clean(self):
        # A policy without conditions is valid: it applies to every ticket.
        forms.BaseInlineFormSet.clean(self)


class AnySlaConditionFormSet(SlaConditionFormSet):
    kind = SlaPolicyCondition.Kind.ANY
    other_prefix = "all_conditions"
