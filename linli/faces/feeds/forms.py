from django import forms
from django.utils.translation import gettext_lazy as _

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.choices import AppealStatus
from linli.domains.appeals.models import Category

from .exports import ExportFilters


class ExportForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部"))] + list(AppealStatus.choices), required=False
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=Category.objects.select_related("parent").order_by("sort_order", "code"),
        required=False,
        empty_label=_("全部"),
    )
    area = forms.ModelChoiceField(
        label=_("街道/社区"),
        queryset=Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY]).order_by("path"),
        required=False,
        empty_label=_("全部"),
    )
    since = forms.DateField(
        label=_("提交日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("提交日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("起始日期晚于截止日期 / the start date is after the end date"))
        return data

    def filters(self) -> ExportFilters:
        d = self.cleaned_data
        return ExportFilters(
            status=d.get("status") or "",
            category=d.get("category"),
            area=d.get("area"),
            since=d.get("since"),
            until=d.get("until"),
        )
