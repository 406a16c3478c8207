"""Forms of the appeals pages. They only parse and check input; every change goes through
``services``. Photos are read from ``request.FILES.getlist(...)`` by the views and checked by the
services (``photos.check_photo``)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from linli.core.orgs.choices import OrgKind
from linli.core.orgs.models import Organisation

from .choices import STAFF_CHANNELS, Channel, Priority, RatingValue, SupervisionLevel
from .models import Category
from .photos import max_count

# Units a case can be sent to.
HANDLING_UNIT_KINDS = (
    OrgKind.DEPARTMENT,
    OrgKind.STREET_OFFICE,
    OrgKind.COMMUNITY_STATION,
    OrgKind.GRID_CENTRE,
)


class CategoryChoiceField(forms.ModelChoiceField):
    """Items grouped under their domain (an <optgroup> per domain): the two-level picker. Only
    leaves can be chosen (a domain without items is its own leaf)."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Category.objects.filter(is_active=True)
            .exclude(children__is_active=True)
            .select_related("parent"),
            **kwargs,
        )

    def label_from_instance(self, obj):
        return obj.name

    def _get_choices(self):
        return _GroupedCategories(self)

    choices = property(_get_choices, forms.ChoiceField.choices.fset)


class _GroupedCategories(BaseChoiceIterator):
    """Read when the widget is drawn, not when the form class is defined."""

    def __init__(self, field):
        self.field = field

    def __iter__(self):
        groups: dict[str, list] = {}
        for category in self.field.queryset.order_by(
            "parent__sort_order", "parent__code", "sort_order", "code"
        ):
            group = category.parent.name if category.parent_id else category.name
            groups.setdefault(group, []).append((category.pk, category.name))
        yield ("", _("请选择问题类别"))
        yield from groups.items()


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class PlaceFields(forms.Form):
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("地址"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("小区、道路门牌…")}),
    )

    def clean(self):
        data = super().clean()
        if data.get("lng") is None or data.get("lat") is None:
            data["lng"] = data["lat"] = None
            if not data.get("address"):
                raise forms.ValidationError(
                    _("请在地图上选择位置，或填写地址 / mark the place on the map or enter an address")
                )
        return data


class SubmitForm(PlaceFields):
    """The resident's "反映问题" form."""

    category = CategoryChoiceField(label=_("问题类别"))
    title = forms.CharField(
        label=_("标题"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    body = forms.CharField(
        label=_("问题描述"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("说清楚什么问题、在哪里、持续多久。"),
    )
    anonymous_to_public = forms.BooleanField(label=_("公开时隐去我的姓名"), required=False, initial=True)
    is_private = forms.BooleanField(
        label=_("不公开（涉及个人隐私）"),
        required=False,
        help_text=_("勾选后办理结果不在网上公开。"),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    field_order = ["category", "title", "body", "address", "lng", "lat"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())


class IntakeForm(SubmitForm):
    """Staff enter a hotline call or a walk-in visit on a resident's behalf."""

    channel = forms.ChoiceField(
        label=_("来源渠道"), choices=[(c.value, c.label) for c in STAFF_CHANNELS], initial=Channel.HOTLINE
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=40, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL)
    field_order = ["channel", "contact_name", "contact_phone", "category", "priority", "title", "body"]

    def clean(self):
        data = super().clean()
        if not (data.get("contact_name") or data.get("contact_phone")):
            raise forms.ValidationError(_("请留下联系人或电话 / a contact name or phone is needed"))
        return data


class PatrolForm(PlaceFields):
    category = CategoryChoiceField(label=_("问题类别"))
    title = forms.CharField(label=_("标题"), max_length=120)
    body = forms.CharField(label=_("情况描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    handled_on_spot = forms.BooleanField(label=_("已现场处置并办结"), required=False)
    result = forms.CharField(
        label=_("处置结果"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())


# --- actions on a case ------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RegisterForm(NoteForm):
    category = CategoryChoiceField(label=_("问题类别"))
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices)


class MergeForm(NoteForm):
    master = forms.CharField(label=_("主件编号"), max_length=24)


def _units():
    return Organisation.objects.filter(is_active=True, kind__in=HANDLING_UNIT_KINDS).order_by("kind", "code")


class DispatchForm(NoteForm):
    lead_unit = forms.ModelChoiceField(label=_("主办单位"), queryset=Organisation.objects.none())
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("可多选（按住 Ctrl 或 ⌘）。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = _units()
        self.fields["assisting_units"].queryset = _units()


class SuperviseForm(NoteForm):
    level = forms.ChoiceField(label=_("级别"), choices=SupervisionLevel.choices)


class VerifyForm(NoteForm):
    passed = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("通过，办结")), ("0", _("未通过，退回重办"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )


class RedactForm(forms.Form):
    public_title = forms.CharField(label=_("公开标题"), max_length=120)
    public_body = forms.CharField(
        label=_("公开内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    public_result = forms.CharField(
        label=_("公开结果"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    published = forms.BooleanField(label=_("在结果公开页展示"), required=False)


class RatingForm(forms.Form):
    value = forms.ChoiceField(label=_("评价"), choices=RatingValue.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtensionDecideForm(NoteForm):
    request_id = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label=_("审批"), choices=[("1", _("批准")), ("0", _("不予批准"))], coerce=lambda v: v == "1"
    )


class HandleForm(forms.Form):
    result = forms.CharField(label=_("办理结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class ExtensionForm(ReasonForm):
    days = forms.IntegerField(label=_("延期工作日"), min_value=1, max_value=15, initial=3)


def photo_limit() -> int:
    return max_count()


class SupplementForm(forms.Form):
    """补充材料: the resident's note (photos come as files)."""

    note = forms.CharField(
        label=_("补充说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AssistReportForm(forms.Form):
    """An assisting unit's result on its part of the case."""

    result = forms.CharField(label=_("协办情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
