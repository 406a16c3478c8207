"""Demo appeals for the Jinniu demo: a few hundred cases over the last three months, in every state
and side state, each walked through the real services (so timelines, events, deadlines, ratings
and publication are real), with the clock set back to when each step happened.

Called by ``load_demo`` through the ``demo_load`` hook (after geography, organisations and staff
exist). Same seed, same cases (up to the day the demo is loaded)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import sys
from collections import Counter
from unittest import mock

from django.db import transaction
from django.utils import timezone

from linli.core.orgs.choices import Role
from linli.core.orgs.models import Membership, Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Compound

from . import services as svc
from .catalogue import appeal_categories_load
from .choices import FINAL_STATUSES, Channel, Priority, RatingValue, SupervisionLevel
from .choices import AppealStatus as S
from .models import Appeal, AppealEvent, Category, Rating, RoutingRule

DEFAULT_COUNT = 420
DAYS = 90

# domain code → department slug (lead), assisting department slugs
DEPARTMENT_RULES = {
    "CG01": ("cgj", ()),
    "CG03": ("zjj", ("cgj",)),
    "CG05": ("swj", ()),
    "CG06": ("jtj", ()),
    "CG07": ("cgj", ()),
    "RX01": ("zjj", ()),
    "RX02": ("sthjj", ()),
    "RX03": ("jtj", ()),
    "RX04": ("jyj", ()),
    "RX05": ("rsj", ()),
    "RX06": ("scjgj", ()),
    "RX07": ("wjj", ()),
}
# item code → department slug: more specific than the domain's rule
ITEM_RULES = {"CG0502": "cgj", "CG0601": "gaj", "RX0802": "mzj"}
# domains handled by each street office (one rule per street), and by each community station
STREET_DOMAINS = ("CG02", "CG04")
COMMUNITY_DOMAINS = ("RX08",)

# Titles by leaf category, so that a demo case says what its category is (the demo's triage model
# learns from these cases). Invented text.
TITLES = {
    "CG0101": ["{place}门口垃圾堆积", "{place}垃圾桶满了没人清运"],
    "CG0102": ["{place}附近道路脏乱", "{place}路面油污没人清扫"],
    "CG0103": ["{place}旁边渣土堆放", "{place}装修垃圾长期堆积"],
    "CG0104": ["{place}墙上小广告很多", "{place}电线杆贴满小广告"],
    "CG0105": ["{place}旁边有人焚烧树叶", "{place}附近有人烧垃圾"],
    "CG0201": ["{place}门口占道经营", "{place}早市摊贩占道"],
    "CG0202": ["{place}附近店外经营严重", "{place}商铺把货摆到人行道上"],
    "CG0203": ["{place}人行道堆满杂物", "{place}楼道外乱堆建材"],
    "CG0204": ["{place}共享单车乱停", "{place}电动车乱停堵路"],
    "CG0301": ["{place}附近夜间施工噪音大", "{place}工地半夜还在施工"],
    "CG0302": ["{place}旁工地扬尘严重", "{place}工地渣土车不覆盖"],
    "CG0303": ["{place}路面开挖后未恢复", "{place}道路挖开很久没填"],
    "CG0401": ["{place}附近路面塌陷", "{place}人行道塌了一个坑"],
    "CG0402": ["{place}门口道路积水", "{place}下雨后积水很深"],
    "CG0403": ["{place}闻到燃气味", "{place}燃气管道疑似泄漏"],
    "CG0501": ["{place}井盖破损", "{place}井盖丢失很危险"],
    "CG0502": ["{place}路灯不亮", "{place}路灯坏了好几盏"],
    "CG0503": ["{place}消防栓损坏", "{place}灭火器过期没人换"],
    "CG0504": ["{place}附近水管漏水", "{place}自来水管爆裂"],
    "CG0601": ["{place}门口机动车乱停", "{place}汽车占用人行道停放"],
    "CG0602": ["{place}路口交通标志损坏", "{place}限速牌被撞倒"],
    "CG0603": ["{place}信号灯故障", "{place}路口红绿灯不亮"],
    "CG0701": ["{place}绿地脏乱", "{place}草坪里垃圾很多"],
    "CG0702": ["{place}大树倒伏", "{place}树木倾斜快倒了"],
    "CG0703": ["{place}绿化带被占用", "{place}有人毁绿种菜"],
    "RX0101": ["{place}规划建设咨询", "{place}房屋产权办理咨询"],
    "RX0102": ["{place}房屋漏雨求助", "{place}危房维修求助"],
    "RX0103": ["{place}违章搭建投诉", "{place}开发商延期交房投诉"],
    "RX0104": ["{place}增设停车位的建议", "{place}公共设施改造建议"],
    "RX0105": ["{place}老旧小区改造进度咨询", "{place}电梯加装求助"],
    "RX0106": ["{place}物业服务差", "{place}物业乱收费"],
    "RX0201": ["{place}附近噪声扰民", "{place}广场舞音响太吵"],
    "RX0202": ["{place}楼下餐馆油烟扰民", "{place}烧烤店油烟很大"],
    "RX0203": ["{place}旁河道有异味", "{place}附近河水发黑"],
    "RX0301": ["{place}公交站点调整建议", "{place}公交车班次太少"],
    "RX0302": ["{place}出租车拒载投诉", "{place}网约车绕路投诉"],
    "RX0401": ["{place}入学政策咨询", "{place}划片入学咨询"],
    "RX0402": ["{place}附近校外培训扰民", "{place}培训机构退费难"],
    "RX0403": ["{place}健身器材损坏", "{place}篮球场灯不亮"],
    "RX0501": ["{place}工地拖欠工资", "{place}餐馆拖欠工资"],
    "RX0502": ["{place}社保转移咨询", "{place}医保缴费咨询"],
    "RX0503": ["{place}就业援助求助", "{place}失业登记求助"],
    "RX0601": ["{place}商家拒绝退款", "{place}超市卖过期商品"],
    "RX0602": ["{place}健身房预付卡无法退费", "{place}理发店办卡后关门"],
    "RX0701": ["{place}附近诊所服务问题", "{place}社区医院排队太久"],
    "RX0702": ["{place}餐馆食品卫生问题", "{place}小摊卖的熟食不卫生"],
    "RX0703": ["{place}疫苗接种咨询", "{place}儿童疫苗预约咨询"],
    "RX0801": ["{place}邻里噪音纠纷", "{place}楼上漏水邻里纠纷"],
    "RX0802": ["{place}独居老人需要助餐服务", "{place}老人需要上门照护"],
    "RX0803": ["{place}公共收益公开问题", "{place}停车费收益去向不明"],
}
BODIES = [
    "{title}，已经持续好几天了，影响居民出行和生活，希望有关部门尽快处理。",
    "{title}。早晚高峰尤其明显，附近住户意见很大，请帮忙协调解决。",
    "居民反映：{title}，之前找过物业没有结果，希望社区和相关部门关注。",
    "{title}，存在安全隐患，老人小孩经过时很危险，请尽快派人查看。",
]
RESULTS = [
    "已安排工作人员到现场核实处理，问题已解决，并与诉求人沟通说明。",
    "经现场查看，已责令相关责任单位整改，整改已完成，后续将加强巡查。",
    "已协调物业和社区共同处理，现场已恢复正常，已电话回复诉求人。",
    "已联系专业队伍维修，设施已恢复使用，将纳入日常巡查。",
]
REASONS_REJECT = [
    "属于民事纠纷，建议通过法律途径解决",
    "反映内容不属于本区受理范围",
    "信息不全，多次联系诉求人未果",
]
REASONS_RETURN = ["该事项不属于本单位职责，建议改派", "经核实位于相邻辖区，请重新派遣"]
FAMILY = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
GIVEN = ["女士", "先生", "阿姨", "大爷", "师傅"]


class _Clock:
    """Services read ``timezone.now()``; during the load it says when each step happened."""

    def __init__(self):
        self.at = None
        self._real = timezone.now

    def now(self):
        return self.at if self.at is not None else self._real()


def _finish_intake_now(appeal_id: int, *, auto_dispatch: bool | None) -> bool:
    svc.appeal_intake_complete(appeal_id=appeal_id, auto_dispatch=auto_dispatch)
    return True


def demo_load(ctx) -> dict[str, int]:
    return load_demo_appeals(seed=ctx.seed, stdout=None)


def load_demo_appeals(*, seed: int = 20250101, stdout=None, count: int = DEFAULT_COUNT) -> dict[str, int]:
    """Create the demo appeals. Needs the Jinniu demo's geography, organisations and staff."""
    write = (stdout.write if stdout is not None else lambda s: None) if stdout is not sys.stdout else print
    district = Area.objects.filter(kind=AreaKind.DISTRICT).order_by("pk").first()
    if district is None:
        return {}
    if not Category.objects.exists():
        appeal_categories_load()
    rules = _routing_rules(district)
    world = _World(seed, district)
    if not world.dispatchers:
        return {"appeal_routing_rules": rules}
    clock = _Clock()
    # No notices during the load: the events are collected as a background task's are (not left as
    # on-commit hooks, which would run after the patches, when load_demo's transaction commits) and
    # dropped. Each intake is finished at once, at its own time, rather than by the worker after the
    # load (which would tell the dispatchers today of cases closed weeks ago).
    with (
        transaction.atomic(),
        mock.patch.object(timezone, "now", clock.now),
        mock.patch.object(svc, "_notify_now", lambda event_id: None),
        mock.patch.object(svc, "request_followup", _finish_intake_now),
        svc.notices_inline(),
    ):
        made = world.run(clock, count)
    # back to real time: colour the deadlines and send the recent notices, dated when they happened
    from linli.core.notifications.models import Notification

    from .tasks import appeal_deadline_scan, appeal_notify, event_dedupe_key

    appeal_deadline_scan.call()
    recent = AppealEvent.objects.filter(
        appeal__path__startswith=district.path, at__gte=timezone.now() - dt.timedelta(days=3)
    ).values_list("pk", "at")
    for event_id, at in recent:
        with contextlib.suppress(Exception):
            appeal_notify.call(event_id)
            Notification.objects.filter(dedupe_key=event_dedupe_key(AppealEvent(pk=event_id))).update(
                created_at=at
            )
    states = Counter(Appeal.objects.filter(path__startswith=district.path).values_list("status", flat=True))
    write(f"appeals: {made} ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})")
    return {"appeals": made, "appeal_routing_rules": rules}


def demo_unload() -> int:
    """Demo appeals hang on the district's areas and are removed with it; categories are kept. Their
    notices name them (or their units) by id, with no foreign key, and the accounts that received
    them are kept: the notices about the district's appeals go here, so that a reloaded demo's
    inboxes do not point at cases that no longer exist."""
    from django.db.models import CharField, Q
    from django.db.models.functions import Cast

    from linli.core.notifications.models import Notification

    from .tasks import DEADLINE_KIND, NOTICE_KIND

    district = Area.objects.filter(kind=AreaKind.DISTRICT).order_by("pk").first()
    if district is None:
        return 0
    appeals = Appeal.objects.filter(path__startswith=district.path)
    appeal_ids = appeals.values(as_text=Cast("pk", CharField()))
    unit_ids = appeals.exclude(lead_unit=None).values(as_text=Cast("lead_unit_id", CharField()))
    staff = Membership.objects.filter(jurisdiction__path__startswith=district.path).values("user_id")
    existing = Appeal.objects.values(as_text=Cast("pk", CharField()))
    about = (
        Q(object_type=Appeal._meta.label_lower, object_id__in=appeal_ids)
        | (Q(object_type=Appeal._meta.label_lower) & ~Q(object_id__in=existing))  # left by an older load
        | Q(object_type=Organisation._meta.label_lower, object_id__in=unit_ids)
        | Q(object_type="", recipient__in=staff)  # the intake digests
    )
    deleted, _ = Notification.objects.filter(about, kind__in=[NOTICE_KIND, DEADLINE_KIND]).delete()
    return deleted


# --- routing rules ---------------------------------------------------------------------------------


def _routing_rules(district: Area) -> int:
    orgs = {o.code: o for o in Organisation.objects.filter(is_active=True)}
    cats = {c.code: c for c in Category.objects.all()}

    def dept(slug):
        return orgs.get(f"510106-{slug.upper()}")

    made = 0

    def rule(category, area, lead, assisting=(), note=""):
        nonlocal made
        if category is None or lead is None:
            return
        r, created = RoutingRule.objects.get_or_create(
            category=category, area=area, lead_unit=lead, defaults={"note": note}
        )
        if created:
            r.assisting_units.set([u for u in assisting if u is not None])
            made += 1

    for code, (lead, assisting) in DEPARTMENT_RULES.items():
        rule(cats.get(code), None, dept(lead), [dept(a) for a in assisting], "演示规则")
    for code, lead in ITEM_RULES.items():
        rule(cats.get(code), None, dept(lead), (), "演示规则")
    for street in Area.objects.filter(kind=AreaKind.STREET, path__startswith=district.path):
        office = orgs.get(f"{street.code}-BSC")
        for code in STREET_DOMAINS:
            rule(cats.get(code), street, office, [dept("cgj")] if code == "CG04" else (), "演示规则")
    for community in Area.objects.filter(kind=AreaKind.COMMUNITY, path__startswith=district.path):
        station = orgs.get(f"{community.code}-SQZ")
        for code in COMMUNITY_DOMAINS:
            rule(cats.get(code), community, station, (), "演示规则")
    return made


# --- the cases -------------------------------------------------------------------------------------


class _World:
    def __init__(self, seed: int, district: Area):
        self.rng = random.Random(f"appeals-{seed}")
        self.district = district
        memberships = Membership.objects.filter(is_active=True, user__is_active=True).select_related(
            "user", "organisation", "jurisdiction"
        )
        self.dispatchers = [
            m.user for m in memberships.filter(role=Role.DISPATCHER).order_by("user__username")
        ]
        self.staff_of: dict[int, object] = {}
        for m in memberships.exclude(role__in=[Role.VOLUNTEER, Role.DISPATCHER]).order_by("user__username"):
            self.staff_of.setdefault(m.organisation_id, m.user)
        self.grid_worker_of = {
            m.jurisdiction_id: m.user
            for m in memberships.filter(role=Role.GRID_WORKER).order_by("user__username")
        }
        from linli.core.accounts.models import User

        self.residents = list(
            User.objects.filter(kind=User.Kind.RESIDENT, username__startswith="resident-demo").order_by(
                "username"
            )
        )
        self.grids = list(
            Area.objects.filter(kind=AreaKind.GRID, path__startswith=district.path).order_by("code")
        )
        self.community_names = dict(
            Area.objects.filter(kind=AreaKind.COMMUNITY, path__startswith=district.path).values_list(
                "pk", "name"
            )
        )
        self.compounds_of: dict[int, list[Compound]] = {}
        for c in Compound.objects.filter(path__startswith=district.path).order_by("pk"):
            self.compounds_of.setdefault(c.grid_id, []).append(c)
        leaves = Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent")
        self.leaves = list(leaves.order_by("code"))
        # urban-management items are the most common, as in practice
        self.weights = [5 if c.code.startswith("CG0") else 2 for c in self.leaves]

    # -- helpers

    def when(self, start: dt.datetime, *, minutes=(10, 120)) -> dt.datetime:
        t = start + dt.timedelta(minutes=self.rng.uniform(*minutes))
        local = timezone.localtime(t)
        if local.hour >= 20:  # the night shift is thin: most steps wait for the morning
            t += dt.timedelta(hours=(24 - local.hour) + 8.5)
        return t

    def staff_for(self, org):
        return self.staff_of.get(org.pk) if org is not None else None

    def answers(self, category):
        out = {}
        for q in category.questions or []:
            kind = q.get("datatype", "text")
            out[q["code"]] = {
                "bool": self.rng.choice(["true", "false"]),
                "number": self.rng.randint(1, 20),
                "choice": (q.get("choices") or [""])[0],
            }.get(kind, "见描述")
        return out

    # -- one case

    def run(self, clock: _Clock, count: int) -> int:
        now = timezone.now()
        made = 0
        recent_by_community: dict[int, list[Appeal]] = {}
        for i in range(count):
            # newer cases are more frequent: more of them are still open
            age_days = DAYS * (self.rng.random() ** 1.6)
            start = timezone.localtime(now - dt.timedelta(days=age_days))
            start = start.replace(hour=self.rng.randint(8, 19), minute=self.rng.randint(0, 59))
            if start > now:
                start = now - dt.timedelta(minutes=self.rng.randint(5, 120))
            try:
                halt = None
                if age_days < 4:  # recent cases often wait at some stage
                    halt = self.rng.choices(
                        [S.SUBMITTED, S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS, S.HANDLED, None],
                        weights=[22, 12, 14, 20, 10, 22],
                    )[0]
                appeal = self.one(clock, start, now, i, recent_by_community, halt)
            except (svc.AppealError, svc.ActorNotAllowed) as exc:  # a demo case that does not fit: skip it
                clock.at = None
                print(f"demo appeal {i} skipped: {exc}", file=sys.stderr)
                continue
            if appeal is not None:
                made += 1
                if appeal.community_id and appeal.status not in (S.MERGED, S.WITHDRAWN, S.REJECTED):
                    recent_by_community.setdefault(appeal.community_id, []).append(appeal)
        clock.at = None
        return made

    def one(self, clock, t, now, i, recent_by_community, halt=None):  # noqa: C901, PLR0912, PLR0915 - a story
        rng = self.rng
        category = rng.choices(self.leaves, weights=self.weights)[0]
        grid = rng.choice(self.grids)
        compounds = self.compounds_of.get(grid.pk) or []
        compound = rng.choice(compounds) if compounds and rng.random() < 0.75 else None
        place = compound.name if compound else self.community_names.get(grid.parent_id, grid.name)
        if compound is not None:
            lng, lat = compound.centroid_lng, compound.centroid_lat
        else:
            lng = (grid.centroid_lng or 104.05) + rng.uniform(-0.0004, 0.0004)
            lat = (grid.centroid_lat or 30.70) + rng.uniform(-0.0004, 0.0004)
        title = rng.choice(TITLES.get(category.code, ["{place}" + category.name])).format(place=place)
        body = rng.choice(BODIES).format(title=title)
        roll = rng.random()
        channel = (
            Channel.PATROL
            if roll < 0.22
            else Channel.WEB
            if roll < 0.38 and self.residents
            else Channel.WALK_IN
            if roll < 0.46
            else Channel.HOTLINE
        )
        dispatcher = rng.choice(self.dispatchers)
        priority = Priority.URGENT if rng.random() < 0.08 else Priority.NORMAL
        common = dict(
            title=title,
            body=body,
            category=category,
            lng=lng,
            lat=lat,
            grid=grid,
            compound=compound,
            answers=self.answers(category),
            idempotency_key=f"demo-{i}",
        )
        clock.at = t
        if channel == Channel.PATROL and any(q.get("required") for q in category.questions or []):
            channel = Channel.HOTLINE
        if channel == Channel.PATROL:
            worker = self.grid_worker_of.get(grid.pk)
            if worker is None:
                return None
            on_spot = rng.random() < 0.45
            appeal = svc.appeal_patrol_report(
                actor=worker,
                title=title,
                body=body,
                category=category,
                lng=lng,
                lat=lat,
                grid=grid,
                compound=compound,
                priority=priority,
                photos=[_photo(rng)] if on_spot else (),
                handled_on_spot=on_spot,
                result="网格员现场处置完毕。" if on_spot else "",
                after_photos=[_photo(rng)] if on_spot else (),
                idempotency_key=f"demo-{i}",
            )
            if on_spot:
                return appeal
        elif channel == Channel.WEB:
            resident = self.residents[i % len(self.residents)]
            appeal = svc.appeal_submit(
                actor=resident,
                channel=Channel.WEB,
                is_private=rng.random() < 0.1,
                auto_dispatch=False,
                **common,
            )
        else:
            appeal = svc.appeal_submit(
                actor=dispatcher,
                channel=channel,
                priority=priority,
                contact_name=rng.choice(FAMILY) + rng.choice(GIVEN),
                contact_phone=f"139{rng.randint(10000000, 99999999)}",
                is_private=rng.random() < 0.08,
                auto_dispatch=rng.random() < 0.35,
                **common,
            )
        resident_actor = appeal.resident

        def step(minutes=(10, 120)):
            nonlocal t
            t = self.when(t, minutes=minutes)
            if t >= now:
                raise _Stop
            clock.at = t

        try:
            # a duplicate of a recent open case nearby
            masters = [
                m
                for m in recent_by_community.get(appeal.community_id, [])[-6:]
                if m.status not in FINAL_STATUSES
            ]
            if appeal.status == S.SUBMITTED and masters and rng.random() < 0.07:
                step((5, 60))
                return svc.appeal_merge(
                    actor=dispatcher, appeal=appeal, master=rng.choice(masters), note="同一问题重复反映"
                )
            if appeal.status == S.SUBMITTED and rng.random() < 0.04:
                step((5, 90))
                return svc.appeal_reject(actor=dispatcher, appeal=appeal, reason=rng.choice(REASONS_REJECT))
            if appeal.status == S.SUBMITTED and resident_actor is not None and rng.random() < 0.04:
                step((5, 60))
                return svc.appeal_withdraw(actor=resident_actor, appeal=appeal, reason="问题已自行解决")
            if halt == appeal.status:
                return appeal
            if appeal.status == S.SUBMITTED:
                step((5, 90))
                appeal = svc.appeal_register(actor=dispatcher, appeal=appeal)
            if halt == appeal.status:
                return appeal
            if appeal.status == S.REGISTERED:
                suggestion = (svc.appeal_suggest_route(appeal) or [None])[0]
                if suggestion is None:
                    return appeal
                lead = Organisation.objects.get(pk=suggestion.lead_unit_id)
                assisting = list(Organisation.objects.filter(pk__in=suggestion.assisting_unit_ids))
                step((5, 40))
                appeal = svc.appeal_dispatch(
                    actor=dispatcher, appeal=appeal, lead_unit=lead, assisting_units=assisting
                )
            handler = self.staff_for(appeal.lead_unit)
            if handler is None:
                return appeal
            if rng.random() < 0.04:  # the unit says it is not theirs
                step((20, 180))
                returned_from = appeal.lead_unit_id
                appeal = svc.appeal_return(actor=handler, appeal=appeal, reason=rng.choice(REASONS_RETURN))
                if rng.random() < 0.5:
                    return appeal
                step((10, 120))
                office = (
                    Organisation.objects.filter(code=f"{appeal.street.code}-BSC").first()
                    if appeal.street
                    else None
                )
                if office is None or office.pk == returned_from:
                    return appeal
                appeal = svc.appeal_dispatch(
                    actor=dispatcher, appeal=appeal, lead_unit=office, note="改派街道办理"
                )
                handler = self.staff_for(appeal.lead_unit)
                if handler is None:
                    return appeal
            if halt == appeal.status:
                return appeal
            if appeal.status == S.DISPATCHED:
                step((10, 90) if rng.random() < 0.85 else (120, 900))
                appeal = svc.appeal_sign(actor=handler, appeal=appeal)
                for assisting in appeal.assisting_units.all():
                    helper = self.staff_for(assisting)
                    if helper is not None:
                        with contextlib.suppress(svc.AppealError):
                            svc.appeal_sign(actor=helper, appeal=appeal)
            if appeal.status == S.DISPATCHED and resident_actor is not None and rng.random() < 0.03:
                return svc.appeal_withdraw(actor=resident_actor, appeal=appeal, reason="已不需要处理")
            if rng.random() < 0.06:
                step((60, 600))
                svc.appeal_supervise(
                    actor=dispatcher, appeal=appeal, level=SupervisionLevel.REMINDER, note="请加快办理进度"
                )
            if rng.random() < 0.08:  # a longer job: extension requested and (mostly) approved
                step((60, 1200))
                req = svc.appeal_extension_request(
                    actor=handler, appeal=appeal, days=rng.randint(2, 5), reason="需协调多个部门并采购材料"
                )
                step((30, 300))
                svc.appeal_extension_decide(
                    actor=dispatcher, request=req, approve=rng.random() < 0.8, note=""
                )
                appeal.refresh_from_db()
            # handling takes a share of the allowed time; some run over
            allowed = max(((appeal.handling_due or t) - t).total_seconds() / 60, 60)
            share = rng.uniform(0.2, 0.9) if rng.random() < 0.85 else rng.uniform(1.1, 2.5)
            step((allowed * share * 0.8, allowed * share * 1.2))
            if halt == appeal.status:
                return appeal
            appeal = svc.appeal_handle(actor=handler, appeal=appeal, result=rng.choice(RESULTS))
            if halt == appeal.status:
                return appeal
            step((30, 600))
            passed = rng.random() > 0.08
            appeal = svc.appeal_verify(
                actor=dispatcher, appeal=appeal, passed=passed, note="" if passed else "现场复核问题仍存在"
            )
            if not passed:
                step((120, 1500))
                appeal = svc.appeal_sign(actor=handler, appeal=appeal)
                step((120, 1500))
                appeal = svc.appeal_handle(
                    actor=handler, appeal=appeal, result="已二次处理，" + rng.choice(RESULTS)
                )
                step((30, 600))
                appeal = svc.appeal_close(actor=dispatcher, appeal=appeal, note="二次核查通过")
            self.rate(step, appeal, resident_actor, dispatcher)
        except _Stop:
            pass
        return appeal

    def rate(self, step, appeal, resident_actor, dispatcher):
        rng = self.rng
        if appeal.status != S.CLOSED or rng.random() < 0.2:
            return
        value = rng.choices(
            [RatingValue.SATISFIED, RatingValue.BASICALLY_SATISFIED, RatingValue.UNSATISFIED],
            weights=[72, 20, 8],
        )[0]
        step((60, 2880))
        actor = resident_actor or dispatcher
        comment = {
            "satisfied": "处理及时，很满意",
            "basically_satisfied": "基本解决了",
            "unsatisfied": "问题没有根本解决",
        }[value]
        rating = svc.appeal_rate(actor=actor, appeal=appeal, value=value, comment=comment)
        Rating.objects.filter(pk=rating.pk).update(at=timezone.now())
        if value == RatingValue.UNSATISFIED and resident_actor is not None:
            step((30, 600))
            svc.appeal_reopen(actor=resident_actor, appeal=appeal, reason="问题仍然存在，请再处理")


class _Stop(Exception):
    """The story has reached today: the case stays where it is."""


def _photo(rng: random.Random) -> bytes:
    import io

    from PIL import Image

    colour = (rng.randint(60, 200), rng.randint(60, 200), rng.randint(60, 200))
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG", quality=70)
    return buf.getvalue()
