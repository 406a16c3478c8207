"""Every write to organisations and memberships goes through here, and lands in the audit trail."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record
from linli.core.places.models import Area, Compound

from .choices import OrgKind, Role
from .models import Membership, Organisation


@transaction.atomic
def organisation_create(
    *,
    actor,
    kind: str,
    code: str,
    name: str,
    area: Area,
    parent: Organisation | None = None,
    compound: Compound | None = None,
    short_name: str = "",
    phone: str = "",
    address: str = "",
) -> Organisation:
    if kind not in OrgKind.values:
        raise ValidationError(_("未知的组织类型 / unknown organisation kind"), code="org_kind")
    if Organisation.objects.filter(code=code).exists():
        raise ValidationError(
            _("组织编码已存在 / an organisation with this code exists"), code="org_code_taken"
        )
    if compound is not None and not compound.path.startswith(area.path):
        raise ValidationError(
            _("小区不在组织的服务区域内 / the compound lies outside the organisation's area"),
            code="compound_outside",
        )
    org = Organisation(
        kind=kind,
        code=code,
        name=name,
        area=area,
        parent=parent,
        compound=compound,
        short_name=short_name,
        phone=phone,
        address=address,
    )
    org.full_clean()
    org.save()
    audit_record(
        actor=actor,
        action="organisation.create",
        obj=org,
        changes={"kind": kind, "code": code, "name": name, "area": area.code},
    )
    return org


@transaction.atomic
def membership_grant(
    *,
    actor,
    user,
    organisation: Organisation,
    role: str,
    jurisdiction: Area,
    title: str = "",
    is_unit_leader: bool = False,
    since: dt.date | None = None,
) -> Membership:
    """Give ``user`` a role in ``organisation``, acting in ``jurisdiction`` (inside the org's area)."""
    if role not in Role.values:
        raise ValidationError(_("未知的角色 / unknown role"), code="role")
    if not jurisdiction.is_within(organisation.area):
        raise ValidationError(
            _("辖区须在组织的服务区域内 / the jurisdiction must lie inside the organisation's area"),
            code="jurisdiction_outside",
        )
    if getattr(user, "kind", "staff") == "resident" and role != Role.VOLUNTEER:
        raise ValidationError(
            _("居民账号只能担任志愿者 / a resident account can only be a volunteer"), code="resident_role"
        )
    exists = Membership.objects.select_for_update().filter(
        user=user, organisation=organisation, role=role, jurisdiction=jurisdiction, is_active=True
    )
    if exists.exists():
        raise ValidationError(_("该任职已存在 / this membership already exists"), code="membership_exists")
    membership = Membership.objects.create(
        user=user,
        organisation=organisation,
        role=role,
        jurisdiction=jurisdiction,
        title=title,
        is_unit_leader=is_unit_leader,
        since=since or dt.date.today(),
    )
    _forget_jurisdiction(user)
    audit_record(
        actor=actor,
        action="membership.grant",
        obj=organisation,
        changes={"user": str(user), "role": role, "jurisdiction": jurisdiction.code, "title": title},
    )
    return membership


@transaction.atomic
def membership_revoke(*, actor, membership: Membership, reason: str = "") -> Membership:
    given_user = membership.user if Membership.user.is_cached(membership) else None
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organisation", "jurisdiction")
        .get(pk=membership.pk)
    )
    if not membership.is_active:
        raise ValidationError(_("该任职已终止 / this membership has already ended"), code="membership_ended")
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    _forget_jurisdiction(membership.user)
    if given_user is not None:
        _forget_jurisdiction(given_user)
    audit_record(
        actor=actor,
        action="membership.revoke",
        obj=membership.organisation,
        reason=reason,
        changes={
            "user": str(membership.user),
            "role": membership.role,
            "jurisdiction": membership.jurisdiction.code,
            "is_active": [True, False],
        },
    )
    return membership


def _forget_jurisdiction(user) -> None:
    user.__dict__.pop("_linli_jurisdiction", None)
