"""Every write to the resident register goes through here. Each function checks its inputs, keeps the
denormalised grid/path and lookup hashes right, and writes one audit row with a change summary in
which ID numbers and phones never appear in clear (PIPL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.audit.selectors import audit_trail_for
from linli.core.audit.services import audit_record, changes_between
from linli.core.places.models import Flat
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash, phone_hash
from linli.core.privacy.phone import normalise_phone

from .choices import Gender, Relation, Tag, Tenure
from .models import Household, HouseholdMember, Person, PersonTag

REVEALABLE_FIELDS = ("id_number", "phone")
ERASED_NAME = "（已删除）"


# --- persons ------------------------------------------------------------------------------------


def _state(person: Person) -> dict[str, Any]:
    """What the audit summary compares: the editable fields, tags sorted."""
    return {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "ethnic_group": person.ethnic_group,
        "id_number": person.id_number or "",
        "phone": person.phone or "",
        "note": person.note,
        "tags": sorted(person.tags.values_list("tag", flat=True)) if person.pk else [],
    }


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = sorted(set(tags))
    unknown = [t for t in cleaned if t not in Tag.values]
    if unknown:
        raise ValidationError(
            {"tags": _("未知的标签：%(tags)s / unknown tags") % {"tags": "、".join(unknown)}},
            code="tag_unknown",
        )
    return cleaned


def _apply_id_number(person: Person, raw: str) -> None:
    """Validate, decode and hash the ID number; birth date and gender follow from it."""
    if not raw.strip():
        person.id_number, person.id_number_hash = "", None
        return
    try:
        card = idcard.parse(raw)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}, code=exc.code) from exc
    digest = id_number_hash(card.number)
    if Person.objects.filter(id_number_hash=digest).exclude(pk=person.pk).exists():
        raise ValidationError(
            {"id_number": _("该身份证号已在居民档案中登记 / this ID number is already in the register")},
            code="id_duplicate",
        )
    person.id_number, person.id_number_hash = card.number, digest
    person.birth_date, person.gender = card.birth_date, card.gender


def _apply_phone(person: Person, raw: str) -> None:
    if not raw.strip():
        person.phone, person.phone_hash = "", ""
        return
    try:
        number = normalise_phone(raw)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}, code=exc.code) from exc
    person.phone, person.phone_hash = number, phone_hash(number)


def _set_tags(person: Person, tags: list[str]) -> None:
    current = set(person.tags.values_list("tag", flat=True))
    wanted = set(tags)
    PersonTag.objects.filter(person=person, tag__in=current - wanted).delete()
    PersonTag.objects.bulk_create([PersonTag(person=person, tag=t) for t in sorted(wanted - current)])


@transaction.atomic
def person_create(
    *,
    actor,
    name: str,
    id_number: str = "",
    phone: str = "",
    ethnic_group: str = "汉族",
    gender: str = Gender.UNKNOWN,
    birth_date: dt.date | None = None,
    tags: Iterable[str] = (),
    note: str = "",
) -> Person:
    """Register a person. With an ID number, birth date and gender come from it and a number already
    in the register is refused."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名 / a name is required")}, code="name_missing")
    tags = _clean_tags(tags)
    person = Person(
        name=name,
        ethnic_group=(ethnic_group or "汉族").strip(),
        gender=gender,
        birth_date=birth_date,
        note=note,
    )
    _apply_id_number(person, id_number)
    _apply_phone(person, phone)
    person.full_clean(exclude=["grid", "path"])
    person.save()
    _set_tags(person, tags)
    after = _state(person)
    audit_record(
        actor=actor,
        action="person.create",
        obj=person,
        changes=changes_between({}, {k: v for k, v in after.items() if v not in ("", None, [])}),
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    """Change any of name, id_number, phone, ethnic_group, note, tags."""
    allowed = {"name", "id_number", "phone", "ethnic_group", "note", "tags"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"person_update() got unexpected fields {sorted(unknown)}")
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased_at:
        raise ValidationError(
            _("该居民信息已删除，不能修改 / this person's record was erased"), code="erased"
        )
    before = _state(person)
    if "name" in fields:
        person.name = fields["name"].strip()
        if not person.name:
            raise ValidationError({"name": _("请填写姓名 / a name is required")}, code="name_missing")
    if "id_number" in fields and idcard.normalise(fields["id_number"]) != (person.id_number or ""):
        _apply_id_number(person, fields["id_number"])
    if "phone" in fields:
        _apply_phone(person, fields["phone"])
    if "ethnic_group" in fields:
        person.ethnic_group = (fields["ethnic_group"] or "汉族").strip()
    if "note" in fields:
        person.note = fields["note"]
    person.full_clean(exclude=["grid", "path"])
    person.save()
    if "tags" in fields:
        _set_tags(person, _clean_tags(fields["tags"]))
    changes = changes_between(before, _state(person))
    if changes:
        audit_record(actor=actor, action="person.update", obj=person, changes=changes)
    return person


@transaction.atomic
def person_tags_set(*, actor, person: Person, tags: Iterable[str]) -> Person:
    tags = _clean_tags(tags)
    before = sorted(person.tags.values_list("tag", flat=True))
    _set_tags(person, tags)
    if before != tags:
        audit_record(actor=actor, action="person.tags_set", obj=person, changes={"tags": [before, tags]})
    return person


@transaction.atomic
def person_reveal(*, actor, person: Person, field: str, reason: str, ip_address: str | None = None) -> str:
    """The plaintext of a sensitive field, for one display. Refused without a reason; every call is
    logged with the field and the reason (PIPL: every full read of a sensitive field)."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError(_("该字段不能查看 / this field cannot be revealed"), code="field")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请说明查看事由 / a reason is required")}, code="reason_missing")
    audit_record(
        actor=actor,
        action="person.reveal",
        obj=person,
        changes={"field": field},
        reason=reason,
        ip_address=ip_address,
    )
    return Person.objects.values_list(field, flat=True).get(pk=person.pk) or ""


@transaction.atomic
def person_export(*, actor, person: Person, reason: str = "") -> dict[str, Any]:
    """Everything held about one person, in clear (PIPL art. 45: access and portability). Logged."""
    person = Person.objects.select_related("grid").get(pk=person.pk)
    memberships = (
        HouseholdMember.objects.filter(person=person)
        .select_related("household__flat__building__compound", "household__grid")
        .order_by("joined_on", "pk")
    )
    account = getattr(person, "account", None)
    data = {
        "exported_at": timezone.now().isoformat(),
        "person": {
            "id": person.pk,
            "name": person.name,
            "gender": person.gender,
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
            "ethnic_group": person.ethnic_group,
            "id_number": person.id_number or "",
            "phone": person.phone or "",
            "grid": person.grid.name if person.grid_id else None,
            "note": person.note,
            "tags": sorted(person.tags.values_list("tag", flat=True)),
            "created_at": person.created_at.isoformat(),
            "updated_at": person.updated_at.isoformat(),
            "erased_at": person.erased_at.isoformat() if person.erased_at else None,
        },
        "households": [
            {
                "household_id": m.household_id,
                "address": str(m.household.flat),
                "grid": m.household.grid.name,
                "relation": m.relation,
                "tenure": m.household.tenure,
                "joined_on": m.joined_on.isoformat() if m.joined_on else None,
                "left_on": m.left_on.isoformat() if m.left_on else None,
            }
            for m in memberships
        ],
        "account": {"username": account.username, "kind": account.kind} if account else None,
        "audit_trail": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "actor": str(e.actor) if e.actor else None,
                "changes": e.changes,
                "reason": e.reason,
            }
            for e in audit_trail_for(person)
        ],
    }
    audit_record(actor=actor, action="person.export", obj=person, reason=reason)
    return data


@transaction.atomic
def person_erase(*, actor, person: Person, reason: str) -> Person:
    """PIPL deletion: the name is replaced, ID number, phone, note and tags removed, the birth date
    coarsened to the year; household links and the audit trail are kept (anonymous statistics)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请说明删除依据 / a reason is required")}, code="reason_missing")
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased_at:
        raise ValidationError(_("该居民信息已删除 / this person's record was already erased"), code="erased")
    before = _state(person)
    person.name = ERASED_NAME
    person.id_number, person.id_number_hash = "", None
    person.phone, person.phone_hash = "", ""
    person.note = ""
    if person.birth_date:
        person.birth_date = person.birth_date.replace(month=1, day=1)
    person.erased_at = timezone.now()
    person.save()
    person.tags.all().delete()
    # Only which fields were cleared: the old values stay out of the trail.
    changes = {"erased_fields": sorted(changes_between(before, _state(person)))}
    audit_record(actor=actor, action="person.erase", obj=person, changes=changes, reason=reason)
    return person


# --- households -----------------------------------------------------------------------------------


@transaction.atomic
def household_create(
    *, actor, flat: Flat, tenure: str = Tenure.OWNER, registered_on: dt.date | None = None, note: str = ""
) -> Household:
    """A household (户) living in ``flat``; its grid and path are the building's."""
    if tenure not in Tenure.values:
        raise ValidationError({"tenure": _("未知的居住性质 / unknown tenure")}, code="tenure")
    building = flat.building
    household = Household.objects.create(
        flat=flat,
        grid_id=building.grid_id,
        path=building.path,
        tenure=tenure,
        registered_on=registered_on or dt.date.today(),
        note=note,
    )
    audit_record(
        actor=actor,
        action="household.create",
        obj=household,
        changes={"flat": str(flat), "grid": building.grid_id, "tenure": tenure},
    )
    return household


def _follow_household(person: Person) -> None:
    """Put the person in the grid of their current household (the one joined last). With none left
    they keep their last place, so they stay in the register of those who served them."""
    current = (
        HouseholdMember.objects.filter(person=person, left_on__isnull=True)
        .select_related("household")
        .order_by("-joined_on", "-pk")
        .first()
    )
    if current is None:
        return
    if person.grid_id != current.household.grid_id or person.path != current.household.path:
        person.grid_id, person.path = current.household.grid_id, current.household.path
        person.save(update_fields=["grid", "path", "updated_at"])


@transaction.atomic
def household_member_add(
    *, actor, household: Household, person: Person, relation: str, joined_on: dt.date | None = None
) -> HouseholdMember:
    """Add ``person`` to ``household``. A household has exactly one householder: the first member
    added is the householder, and a second one is refused."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if relation not in Relation.values:
        raise ValidationError({"relation": _("未知的与户主关系 / unknown relation")}, code="relation")
    if household.moved_out_on:
        raise ValidationError(_("该住户已迁出 / this household has moved out"), code="household_moved_out")
    if person.erased_at:
        raise ValidationError(_("该居民信息已删除 / this person's record was erased"), code="erased")
    current = HouseholdMember.objects.filter(household=household, left_on__isnull=True)
    if current.filter(person=person).exists():
        raise ValidationError(
            _("%(name)s 已是该户成员 / already a member of this household") % {"name": person.name},
            code="member_exists",
        )
    has_householder = current.filter(relation=Relation.HOUSEHOLDER).exists()
    if relation == Relation.HOUSEHOLDER and has_householder:
        raise ValidationError(
            {"relation": _("该户已有户主 / this household already has a householder")},
            code="two_householders",
        )
    if relation != Relation.HOUSEHOLDER and not has_householder:
        raise ValidationError(
            {"relation": _("请先登记户主 / register the householder first")}, code="no_householder"
        )
    member = HouseholdMember.objects.create(
        household=household, person=person, relation=relation, joined_on=joined_on or dt.date.today()
    )
    _follow_household(person)
    summary = {"person": person.pk, "relation": relation}
    audit_record(actor=actor, action="household.member_add", obj=household, changes=summary)
    audit_record(
        actor=actor,
        action="person.household_join",
        obj=person,
        changes={"household": household.pk, "relation": relation},
    )
    return member


@transaction.atomic
def household_member_remove(
    *, actor, household: Household, person: Person, left_on: dt.date | None = None, reason: str = ""
) -> HouseholdMember:
    """``person`` leaves ``household``. The householder leaves last (or after handing over with
    ``household_householder_change``)."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    member = HouseholdMember.objects.filter(household=household, person=person, left_on__isnull=True).first()
    if member is None:
        raise ValidationError(
            _("该居民不是本户现有成员 / not a current member of this household"), code="not_member"
        )
    others = HouseholdMember.objects.filter(household=household, left_on__isnull=True).exclude(pk=member.pk)
    if member.relation == Relation.HOUSEHOLDER and others.exists():
        raise ValidationError(
            _("户主须在其他成员之后迁出，请先变更户主 / change the householder before they leave"),
            code="householder_leaves_first",
        )
    member.left_on = left_on or dt.date.today()
    member.save(update_fields=["left_on"])
    _follow_household(person)
    audit_record(
        actor=actor,
        action="household.member_remove",
        obj=household,
        reason=reason,
        changes={"person": person.pk, "relation": member.relation},
    )
    audit_record(
        actor=actor,
        action="person.household_leave",
        obj=person,
        reason=reason,
        changes={"household": household.pk},
    )
    return member


@transaction.atomic
def household_householder_change(
    *, actor, household: Household, person: Person, previous_relation: str = Relation.OTHER
) -> HouseholdMember:
    """Make ``person`` (a current member) the householder; the old one takes ``previous_relation``."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    current = HouseholdMember.objects.filter(household=household, left_on__isnull=True)
    new = current.filter(person=person).first()
    if new is None:
        raise ValidationError(
            _("该居民不是本户现有成员 / not a current member of this household"), code="not_member"
        )
    if new.relation == Relation.HOUSEHOLDER:
        return new
    if previous_relation == Relation.HOUSEHOLDER or previous_relation not in Relation.values:
        raise ValidationError({"relation": _("未知的与户主关系 / unknown relation")}, code="relation")
    old = current.filter(relation=Relation.HOUSEHOLDER).first()
    if old is not None:
        old.relation = previous_relation
        old.save(update_fields=["relation"])
    old_relation, new.relation = new.relation, Relation.HOUSEHOLDER
    new.save(update_fields=["relation"])
    audit_record(
        actor=actor,
        action="household.householder_change",
        obj=household,
        changes={
            "householder": [old.person_id if old else None, person.pk],
            "previous_relation": old_relation,
        },
    )
    return new
