from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    DISTRICT_OFFICE = "district_office", _("区委区政府")
    DEPARTMENT = "department", _("区级部门")
    STREET_OFFICE = "street_office", _("街道办事处")
    COMMUNITY_STATION = "community_station", _("社区工作站")
    GRID_CENTRE = "grid_centre", _("网格化服务管理中心")
    PARTY_COMMITTEE = "party_committee", _("党委")
    PARTY_BRANCH = "party_branch", _("党支部")
    SELF_GOVERNANCE_GROUP = "self_governance_group", _("自治管理小组")
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
    PROPERTY_COMPANY = "property_company", _("物业服务企业")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")


class Role(models.TextChoices):
    """What a staff member does; the jurisdiction of the membership says where."""

    ADMIN = "admin", _("系统管理员")
    LEADER = "leader", _("区领导")
    MENTOR = "mentor", _("对口指导")
    DISPATCHER = "dispatcher", _("网格中心调度员")
    DEPARTMENT_STAFF = "department_staff", _("部门经办人")
    STREET_STAFF = "street_staff", _("街道工作人员")
    COMMUNITY_STAFF = "community_staff", _("社区工作者")
    GRID_WORKER = "grid_worker", _("网格员")
    PARTY_SECRETARY = "party_secretary", _("党组织书记")
    GROUP_MEMBER = "group_member", _("自治组织成员")
    VOLUNTEER = "volunteer", _("志愿者")


# Roles that may read the resident register inside their jurisdiction.
REGISTER_ROLES = frozenset(
    {Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER}
)
