"""Forms of the triage pages: they parse and check input; every change goes through ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.domains.appeals.models import Category

from .models import TrainingSet


class TrainForm(forms.Form):
    platform = forms.BooleanField(label=_("平台已办结诉求"), required=False, initial=True)
    sets = forms.ModelMultipleChoiceField(
        label=_("导入的历史留言"),
        queryset=TrainingSet.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    corrections = forms.BooleanField(label=_("调度员纠正（加权）"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["sets"] = list(self.fields["sets"].queryset)

    def clean(self):
        data = super().clean()
        if not data.get("platform") and not data.get("sets") and not data.get("corrections"):
            raise forms.ValidationError(_("请至少选择一种训练数据"))
        return data


class ImportForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=120, help_text=_("例如：2020年市民留言"))
    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("UTF-8 编码；列：title、body、label，可选 id、submitted_at"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class MappingForm(forms.Form):
    """One category per label of an imported set; a label left empty is not used for training."""

    is_active = forms.BooleanField(label=_("用于训练"), required=False)

    def __init__(self, *args, training_set: TrainingSet, **kwargs):
        super().__init__(*args, **kwargs)
        self.training_set = training_set
        categories = (
            Category.objects.filter(is_active=True)
            .select_related("parent")
            .order_by("parent__sort_order", "parent__code", "sort_order", "code")
        )
        self.label_fields = []
        for n, (label, count) in enumerate(sorted(training_set.label_counts.items(), key=lambda x: -x[1])):
            name = f"label_{n}"
            self.fields[name] = CategoryField(
                label=label,
                queryset=categories,
                required=False,
                empty_label=_("（不使用）"),
                help_text=_("%(n)s 条") % {"n": count},
                initial=training_set.mapping.get(label),
            )
            self.label_fields.append((name, label))
        self.fields["is_active"].initial = training_set.is_active

    def mapping(self) -> dict[str, int | None]:
        return {
            label: (self.cleaned_data[name].pk if self.cleaned_data.get(name) else None)
            for name, label in self.label_fields
        }
