from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryStatus, EventType
from .models import Subscription


class SubscriptionForm(forms.Form):
    partner = forms.CharField(label=_("合作方"), max_length=80)
    target_url = forms.URLField(
        label=_("接收地址"), max_length=500, assume_scheme="https", help_text=_("http 或 https 网址")
    )
    event_types = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    external_source = forms.CharField(
        label=_("仅限外部来源"),
        max_length=40,
        required=False,
        help_text=_("填写后只推送该外部来源（如 12345）转来的诉求；留空推送全部"),
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部"))] + list(DeliveryStatus.choices), required=False
    )
    subscription = forms.ModelChoiceField(
        label=_("合作方"), queryset=Subscription.objects.all(), required=False, empty_label=_("全部")
    )
    event_type = forms.ChoiceField(
        label=_("事件类型"), choices=[("", _("全部"))] + list(EventType.choices), required=False
    )
