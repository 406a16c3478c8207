from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Relation, Tag
from .importing import MAX_BYTES


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("id_number", _("身份证号")), ("phone", _("联系电话"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("查看事由"),
        max_length=300,
        strip=True,
        error_messages={"required": _("请说明查看事由 / a reason is required")},
        widget=forms.TextInput(attrs={"placeholder": _("例如：核实低保申请材料")}),
    )


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("删除依据"),
        max_length=300,
        strip=True,
        error_messages={"required": _("请说明删除依据 / a reason is required")},
        widget=forms.TextInput(attrs={"placeholder": _("例如：本人于某日书面申请删除")}),
    )
    confirm = forms.BooleanField(
        label=_("我确认删除后无法恢复"), error_messages={"required": _("请确认 / please confirm")}
    )


class ExportForm(forms.Form):
    reason = forms.CharField(label=_("导出事由"), max_length=300, required=False, strip=True)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("导入文件（.xlsx 或 .csv）"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_BYTES:
            raise forms.ValidationError(_("文件过大 / the file is too large"))
        if not f.name.lower().endswith((".xlsx", ".xlsm", ".csv", ".txt")):
            raise forms.ValidationError(
                _("仅支持 .xlsx 或 .csv 文件 / only .xlsx or .csv files are accepted")
            )
        return f


class PersonForm(forms.Form):
    """Edit a person, or register a new one (with ``relation``) into a household."""

    name = forms.CharField(label=_("姓名"), max_length=60)
    id_number = forms.CharField(label=_("身份证号"), max_length=24, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    ethnic_group = forms.CharField(label=_("民族"), max_length=20, initial="汉族")
    tags = forms.MultipleChoiceField(
        label=_("标签"), choices=Tag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(PersonForm):
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices)


def apply_errors(form: forms.Form, exc) -> None:
    """Put a service's ValidationError on the form, by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
