"""Pages of the resident register. Every record is looked up through ``permissions``; sensitive
fields are masked unless the viewer asks, with a reason, to see one in full (logged)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.core.privacy.masking import mask_id_number, mask_phone

from . import selectors, services
from .choices import Tag
from .forms import EraseForm, ExportForm, ImportForm, MemberForm, PersonForm, RevealForm, apply_errors
from .importing import residents_import, template_workbook
from .models import HouseholdMember
from .permissions import (
    access_household_by_id,
    access_person_by_id,
    can_erase_person,
    can_export_person,
    can_manage_register,
    households_visible_to,
    persons_visible_to,
)

PAGE_SIZE = 30


def _grids_for(user):
    grids = Area.objects.filter(kind=AreaKind.GRID)
    if getattr(user, "kind", None) == "resident":
        return grids.filter(pk__in=households_visible_to(user).values("grid_id"))
    return jurisdiction_of(user).filter(grids)


def _filters(request):
    grid = None
    if request.GET.get("grid", "").isdigit():
        grid = _grids_for(request.user).filter(pk=int(request.GET["grid"])).first()
    tag = request.GET.get("tag", "")
    return {
        "grid": grid,
        "tag": tag if tag in Tag.values else "",
        "q": request.GET.get("q", "").strip()[:60],
    }


def _querystring(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def household_list(request):
    f = _filters(request)
    qs = selectors.household_list(households_visible_to(request.user), grid=f["grid"], tag=f["tag"], q=f["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for household in page:
        household.householder = selectors.householder_of(household)
        tags = {t.tag: t for m in household.current_members for t in m.person.tags.all()}
        household.tag_list = list(tags.values())
    return render(
        request,
        "people/household_list.html",
        {
            "page": page,
            "f": f,
            "grids": _grids_for(request.user),
            "tags": Tag.choices,
            "querystring": _querystring(request),
            "can_import": can_manage_register(request.user),
        },
    )


@login_required
def person_list(request):
    f = _filters(request)
    visible = persons_visible_to(request.user)
    qs = selectors.person_search(visible, q=f["q"], tag=f["tag"], area=f["grid"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.tag_counts(visible, area=f["grid"])
    return render(
        request,
        "people/person_list.html",
        {
            "page": page,
            "f": f,
            "grids": _grids_for(request.user),
            "tag_counts": [(code, label, counts[code]) for code, label in Tag.choices],
            "tags": Tag.choices,
            "querystring": _querystring(request),
        },
    )


@login_required
def household_detail(request, household_id: int):
    household = access_household_by_id(request.user, household_id)
    household = selectors.household_with_members(households_visible_to(request.user), household.pk)
    past = (
        HouseholdMember.objects.filter(household=household, left_on__isnull=False)
        .select_related("person")
        .order_by("-left_on")
    )
    return render(
        request,
        "people/household_detail.html",
        {
            "household": household,
            "members": household.current_members,
            "past_members": past,
            "can_manage": can_manage_register(request.user),
        },
    )


def _person_context(request, person, *, revealed=None, reveal_form=None, status=200):
    memberships = (
        HouseholdMember.objects.filter(person=person)
        .select_related("household__flat__building__compound")
        .order_by("left_on", "-joined_on")
    )
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "id_number_masked": mask_id_number(person.id_number),
            "phone_masked": mask_phone(person.phone),
            "tags": person.tags.all(),
            "memberships": memberships,
            "revealed": revealed or {},
            "reveal_form": reveal_form,
            "can_export": can_export_person(request.user, person),
            "can_erase": can_erase_person(request.user, person) and not person.erased_at,
            "can_edit": can_manage_register(request.user) and not person.erased_at,
        },
        status=status,
    )


@login_required
@never_cache
def person_detail(request, person_id: int):
    return _person_context(request, access_person_by_id(request.user, person_id))


@login_required
@require_POST
@never_cache
def person_reveal(request, person_id: int):
    person = access_person_by_id(request.user, person_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _person_context(request, person, reveal_form=form, status=400)
    value = services.person_reveal(
        actor=request.user,
        person=person,
        field=form.cleaned_data["field"],
        reason=form.cleaned_data["reason"],
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    return _person_context(request, person, revealed={form.cleaned_data["field"]: value})


@login_required
@require_POST
@never_cache
def person_export(request, person_id: int):
    person = access_person_by_id(request.user, person_id)
    if not can_export_person(request.user, person):
        raise PermissionDenied
    form = ExportForm(request.POST)
    form.is_valid()
    data = services.person_export(
        actor=request.user, person=person, reason=form.cleaned_data.get("reason", "")
    )
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


@login_required
@never_cache
def person_erase(request, person_id: int):
    person = access_person_by_id(request.user, person_id)
    if not can_erase_person(request.user, person) or person.erased_at:
        raise PermissionDenied
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.person_erase(actor=request.user, person=person, reason=form.cleaned_data["reason"])
        messages.success(request, _("已按个人信息保护法删除该居民的个人信息。"))
        return redirect(person.get_absolute_url())
    return render(request, "people/person_erase.html", {"person": person, "form": form})


@login_required
def register_import(request):
    if not can_manage_register(request.user):
        raise PermissionDenied
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = residents_import(request.user, upload, upload.name)
        if report.ok:
            messages.success(
                request,
                _("导入成功：%(p)s 名居民，新建 %(h)s 户。")
                % {"p": report.persons_created, "h": report.households_created},
            )
            return redirect("people:household_list")
    return render(request, "people/import.html", {"form": form, "report": report}, status=200)


@login_required
def import_template(request):
    if not can_manage_register(request.user):
        raise PermissionDenied
    response = HttpResponse(
        template_workbook(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="residents-template.xlsx"'
    return response


@login_required
@never_cache
def person_edit(request, person_id: int):
    person = access_person_by_id(request.user, person_id)
    if not can_manage_register(request.user) or person.erased_at:
        raise PermissionDenied
    initial = {
        "name": person.name,
        "phone": person.phone,
        "ethnic_group": person.ethnic_group,
        "note": person.note,
        "tags": list(person.tags.values_list("tag", flat=True)),
    }
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "id_number"}
        if form.cleaned_data["id_number"]:  # left empty: keep the number on file (it is never shown here)
            data["id_number"] = form.cleaned_data["id_number"]
        try:
            services.person_update(actor=request.user, person=person, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(person.get_absolute_url())
    return render(request, "people/person_form.html", {"form": form, "person": person})


@login_required
def household_member_new(request, household_id: int):
    household = access_household_by_id(request.user, household_id)
    if not can_manage_register(request.user):
        raise PermissionDenied
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        relation = data.pop("relation")
        try:
            with transaction.atomic():
                person = services.person_create(actor=request.user, **data)
                services.household_member_add(
                    actor=request.user, household=household, person=person, relation=relation
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记 %(name)s。") % {"name": person.name})
            return redirect(household.get_absolute_url())
    return render(request, "people/person_form.html", {"form": form, "household": household})


@login_required
@require_POST
def household_member_leave(request, household_id: int, person_id: int):
    household = access_household_by_id(request.user, household_id)
    person = access_person_by_id(request.user, person_id)
    if not can_manage_register(request.user):
        raise PermissionDenied
    try:
        services.household_member_remove(
            actor=request.user,
            household=household,
            person=person,
            reason=request.POST.get("reason", "")[:300],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s 已离户。") % {"name": person.name})
    return redirect(household.get_absolute_url())
