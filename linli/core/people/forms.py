from django import forms
from django.utils.translation import gettext_lazy as _

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
