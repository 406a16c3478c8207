"""The Jinniu demo: geography, residents, organisations and accounts, generated from a seed.

Everything is invented except the district's and streets' names and the communities and compound
that PRODUCT.md names. The same seed and resident count give the same data (boundaries, names, ID
numbers, accounts); the ages are counted from 1 January of the current year.

Rows are written with ``bulk_create`` (encrypted fields still encrypt there) inside the caller's
transaction, and one ``demo.load`` audit event is recorded on the district.

Other modules may add their own demo data: an installed app ``linli.x.y`` with a module
``linli.x.y.demo`` defining ``demo_load(context: DemoContext) -> dict[str, int]`` is called after
the core is loaded (same transaction); the counts it returns join the summary.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import transaction
from shapely.geometry import Point, Polygon

from linli.core.accounts.models import User
from linli.core.audit.services import audit_record
from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Membership, Organisation
from linli.core.people.choices import Gender, Relation, Tag, Tenure
from linli.core.people.models import Household, HouseholdMember, Person, PersonTag
from linli.core.places.choices import AreaKind, AreaSource
from linli.core.places.models import Area, Building, Compound, Flat, Road
from linli.core.places.services import area_path, bump_geography_version
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash, phone_hash

from . import geometry as geo
from .data import jinniu as J
from .data import people as P

DEMO_PASSWORD = "linli-demo-2026"  # noqa: S105 - the one password of every demo staff account (demo only)
DEFAULT_RESIDENTS = 2000
DEFAULT_SEED = 2026

# Demo mobile numbers are 139-0000-xxxx (then 139-0001-xxxx …): one block, used for nothing else,
# so a demo number is recognisable at a glance. China reserves no range for fiction, so a number in
# this block may belong to someone: never point a real SMS backend at a database holding the demo
# (the default backend only writes the code to the server log).
DEMO_PHONE_BASE = 13900000000
RESIDENT_ACCOUNTS = 5  # 13900000001 … 13900000005 sign in with an SMS code

OLD_STREETS = {"xianlu", "fuqin", "hehuachi", "yingmenkou", "simaqiao", "wukuaishi"}
NEW_STREETS = {"tianhuizhen", "fenghuangshan", "shaheyuan", "xihua"}


@dataclass
class DemoContext:
    """What the load built, for other modules' ``demo_load`` hooks and for the tests."""

    seed: int
    as_of: dt.date
    district: Area | None = None
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    slug: dict[int, str] = field(default_factory=dict)  # area id → slug (streets, communities)
    orgs: dict[str, Organisation] = field(default_factory=dict)  # org code → organisation
    users: dict[str, User] = field(default_factory=dict)  # username → account
    counts: dict[str, int] = field(default_factory=dict)

    def rng(self, purpose: str) -> random.Random:
        """An independent random stream per purpose, so adding data to one part leaves the others
        unchanged."""
        return random.Random(f"linli-demo:{self.seed}:{purpose}")


class JinniuDemo:
    def __init__(
        self,
        *,
        residents: int = DEFAULT_RESIDENTS,
        seed: int = DEFAULT_SEED,
        log: Callable[[str], None] = lambda message: None,
        modules: bool = True,
    ):
        self.residents = residents
        self.modules = modules
        self.ctx = DemoContext(seed=seed, as_of=dt.date(dt.date.today().year, 1, 1))
        self.log = log
        self._clock = time.monotonic()
        self._shapes: dict[int, Polygon] = {}  # id(Area or Compound object) → shape
        self._flats: list[tuple[Flat, Compound]] = []
        self._featured: dict[str, Compound] = {}  # community slug → featured compound

    # -- the whole load -------------------------------------------------------------------------
    def load(self) -> DemoContext:
        with transaction.atomic():
            self._geography()
            self._compounds()
            self._buildings_and_flats()
            self._residents()
            self._organisations()
            self._accounts()
            if self.modules:
                self._module_hooks()
            audit_record(
                actor=None,
                action="demo.load",
                obj=self.ctx.district,
                changes={"seed": self.ctx.seed, "residents": self.residents, **self.ctx.counts},
            )
            transaction.on_commit(bump_geography_version)
        return self.ctx

    def _step(self, message: str) -> None:
        now = time.monotonic()
        self.log(f"  {message} ({now - self._clock:.1f}s)")
        self._clock = now

    # -- geography ------------------------------------------------------------------------------
    def _area(self, kind: str, code: str, name: str, parent: Area | None, poly: Polygon, **fields) -> Area:
        centre = poly.centroid if poly.contains(poly.centroid) else poly.representative_point()
        area = Area(
            kind=kind,
            code=code,
            name=name,
            parent=parent,
            path=area_path(code=code, parent=parent),
            boundary=geo.to_geojson(poly),
            centroid_lng=round(centre.x, 6),
            centroid_lat=round(centre.y, 6),
            **fields,
        )
        self._shapes[id(area)] = poly
        return area

    def _geography(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("geography")
        people_rng = ctx.rng("population")
        outline = geo.snap(Polygon(J.DISTRICT_OUTLINE))
        ctx.district = self._area(
            AreaKind.DISTRICT,
            J.DISTRICT_CODE,
            J.DISTRICT_NAME,
            None,
            outline,
            note="演示数据：边界为示意，居民、工作人员均为虚构。",
        )
        ctx.district.save()

        street_cells = geo.partition(outline, [Point(*s[2]) for s in J.STREETS])
        streets = []
        for i, ((name, *_rest), cell) in enumerate(zip(J.STREETS, street_cells, strict=True), 1):
            streets.append(self._area(AreaKind.STREET, f"{J.DISTRICT_CODE}{i:03d}", name, ctx.district, cell))
        ctx.streets = Area.objects.bulk_create(streets)
        for street, (_n, slug, _s, _c) in zip(ctx.streets, J.STREETS, strict=True):
            ctx.slug[street.pk] = slug

        communities, community_slugs = [], []
        for street, (_n, _slug, _s, comms) in zip(ctx.streets, J.STREETS, strict=True):
            poly = self._shapes[id(street)]
            cells = geo.partition(poly, geo.spread_points(rng, poly, len(comms)))
            for j, ((cname, cslug), cell) in enumerate(zip(comms, cells, strict=True), 1):
                communities.append(
                    self._area(
                        AreaKind.COMMUNITY,
                        f"{street.code}{j:03d}",
                        cname,
                        street,
                        cell,
                        note=J.COMMUNITY_NOTES.get(cslug, ""),
                    )
                )
                community_slugs.append(cslug)
        ctx.communities = Area.objects.bulk_create(communities)
        for community, cslug in zip(ctx.communities, community_slugs, strict=True):
            ctx.slug[community.pk] = cslug

        grids = []
        for community in ctx.communities:
            poly = self._shapes[id(community)]
            n = rng.randint(2, 5)
            for k, cell in enumerate(geo.partition(poly, geo.spread_points(rng, poly, n)), 1):
                grids.append(
                    self._area(
                        AreaKind.GRID,
                        f"{community.code}{k:03d}",
                        f"{community.name}第{k}网格",
                        community,
                        cell,
                        population=people_rng.randint(5000, 8200),
                    )
                )
        ctx.grids = Area.objects.bulk_create(grids)

        # 常住人口: invented (the district's total comes near its real 1.26 million), summed upwards;
        # the register below holds only a sample of it.
        by_code = {a.code: a for a in [ctx.district, *ctx.streets, *ctx.communities]}
        for grid in ctx.grids:
            for code in (grid.code[:12], grid.code[:9], grid.code[:6]):
                by_code[code].population = (by_code[code].population or 0) + grid.population
        Area.objects.bulk_update([ctx.district, *ctx.streets, *ctx.communities], ["population"])
        ctx.counts.update(streets=len(ctx.streets), communities=len(ctx.communities), grids=len(ctx.grids))
        self._step(
            f"geography: {len(ctx.streets)} streets, {len(ctx.communities)} communities, "
            f"{len(ctx.grids)} grids"
        )

    # -- roads and compounds --------------------------------------------------------------------
    def _compounds(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("compounds")
        roads = Road.objects.bulk_create(
            [
                Road(name=name, street=street)
                for street in ctx.streets
                for name in J.ROADS[ctx.slug[street.pk]]
            ]
        )
        roads_of: dict[int, list[Road]] = {}
        for road in roads:
            roads_of.setdefault(road.street_id, []).append(road)
        next_number: dict[int, int] = {}
        featured = {slug: rest for slug, *rest in J.FEATURED_COMPOUNDS}
        used_names = {name for _slug, name, *_ in J.FEATURED_COMPOUNDS}
        streets_by_id = {s.pk: s for s in ctx.streets}

        compounds = []
        grids_of: dict[int, list[Area]] = {}
        for grid in ctx.grids:
            grids_of.setdefault(grid.parent_id, []).append(grid)
        for community in ctx.communities:
            cslug = ctx.slug[community.pk]
            street = streets_by_id[community.parent_id]
            sslug = ctx.slug[street.pk]
            for g_index, grid in enumerate(grids_of[community.pk]):
                taken: list[Polygon] = []
                for c_index in range(rng.randint(2, 4)):
                    poly = geo.compound_outline(rng, self._shapes[id(grid)], taken)
                    taken.append(poly)
                    special = featured.get(cslug) if g_index == 0 and c_index == 0 else None
                    if special:
                        name, built, has_property, road_name, note = special
                        road = next(r for r in roads_of[street.pk] if r.name == road_name)
                    else:
                        road = rng.choice(roads_of[street.pk])
                        built = self._built_year(rng, sslug)
                        name = self._compound_name(rng, road.name, built, used_names)
                        courtyard = name.endswith(("院", "院落", "宿舍", "大院"))
                        chance = 0.2 if courtyard else (0.4 if built < 2000 else 0.95)
                        has_property = rng.random() < chance
                        note = ""
                    number = next_number.get(road.pk, 0) + rng.randint(2, 40)
                    next_number[road.pk] = number
                    centre = poly.centroid
                    compound = Compound(
                        code=f"{grid.code}{c_index + 1:02d}",
                        name=name,
                        aliases="力作苑" if name == "力作苑小区" else "",
                        community=community,
                        grid=grid,
                        path=grid.path,
                        address=f"成都市金牛区{road.name}{number}号",
                        road=road,
                        boundary=geo.to_geojson(poly),
                        centroid_lng=round(centre.x, 6),
                        centroid_lat=round(centre.y, 6),
                        built_year=built,
                        has_property_company=has_property,
                        note=note,
                    )
                    self._shapes[id(compound)] = poly
                    compounds.append(compound)
        ctx.compounds = Compound.objects.bulk_create(compounds)
        for compound in ctx.compounds:
            slug = ctx.slug[compound.community_id]
            if slug in featured and compound.name == featured[slug][0]:
                self._featured[slug] = compound
        ctx.counts.update(roads=len(roads), compounds=len(ctx.compounds))
        self._step(f"roads and compounds: {len(roads)} roads, {len(ctx.compounds)} compounds")

    @staticmethod
    def _built_year(rng: random.Random, street_slug: str) -> int:
        if street_slug in OLD_STREETS:
            return rng.randint(1982, 2010)
        if street_slug in NEW_STREETS:
            return rng.randint(1996, 2022)
        return rng.randint(1988, 2016)

    @staticmethod
    def _compound_name(rng: random.Random, road: str, built: int, used: set[str]) -> str:
        for _ in range(50):
            roll = rng.random()
            if built < 2000 and roll < 0.25:
                name = f"{road}{rng.randint(1, 180)}号院"
            elif built < 2000 and roll < 0.4:
                name = f"{rng.choice(J.COMPOUND_PREFIXES)[:1]}{rng.choice(J.DORM_OWNERS)}宿舍"
            else:
                name = rng.choice(J.COMPOUND_PREFIXES) + rng.choice(J.COMPOUND_SUFFIXES)
            if name not in used:
                used.add(name)
                return name
        name = f"{road}{len(used)}号院"
        used.add(name)
        return name

    # -- buildings and flats --------------------------------------------------------------------
    def _buildings_and_flats(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("buildings")
        featured_ids = {c.pk for c in self._featured.values()}
        plans = []  # (building, rooms per floor)
        for compound in ctx.compounds:
            poly = self._shapes[id(compound)]
            old = compound.built_year < 2000
            count = 3 if compound.pk in featured_ids else (rng.randint(1, 3) if old else rng.randint(1, 2))
            points: list[Point] = []
            for b in range(1, count + 1):
                p = geo.random_point_in(rng, poly)
                for _ in range(30):
                    if all(p.distance(q) > 0.0003 for q in points):
                        break
                    p = geo.random_point_in(rng, poly)
                points.append(p)
                if compound.pk in featured_ids:
                    floors, units = 6, 2
                elif old:
                    floors, units = rng.randint(5, 7), rng.randint(1, 3)
                else:
                    floors, units = rng.choice((7, 11, 11, 14, 18)), rng.randint(1, 2)
                plans.append(
                    (
                        Building(
                            compound=compound,
                            name=f"{b}栋",
                            grid_id=compound.grid_id,
                            path=compound.path,
                            lng=round(p.x, 6),
                            lat=round(p.y, 6),
                            floors=floors,
                            units=units,
                        ),
                        old,
                    )
                )
        buildings = Building.objects.bulk_create([b for b, _old in plans])
        compounds = {c.pk: c for c in ctx.compounds}
        flats = []
        for building, (_b, old) in zip(buildings, plans, strict=True):
            rental_rate = 0.22 if old else 0.14
            for unit in range(1, building.units + 1):
                for floor in range(1, building.floors + 1):
                    for room in range(1, 3):
                        area = rng.uniform(50, 88) if old else rng.uniform(68, 140)
                        source = rng.choices(
                            (AreaSource.REGISTERED, AreaSource.SURVEYED, AreaSource.CONTRACT), (85, 10, 5)
                        )[0]
                        flats.append(
                            Flat(
                                building=building,
                                unit=f"{unit}单元",
                                room=f"{floor}{room:02d}",
                                floor=floor,
                                floor_area=Decimal(f"{area:.2f}"),
                                area_source=source,
                                is_rental=rng.random() < rental_rate,
                            )
                        )
        flats = Flat.objects.bulk_create(flats, batch_size=2000)
        by_building = {b.pk: compounds[b.compound_id] for b in buildings}
        grid_of_building = {b.pk: b.grid_id for b in buildings}
        self._grid_of_flat = {f.pk: grid_of_building[f.building_id] for f in flats}
        self._flats = [(f, by_building[f.building_id]) for f in flats]
        ctx.counts.update(buildings=len(buildings), flats=len(flats))
        self._step(f"buildings and flats: {len(buildings)} buildings, {len(flats)} flats")

    # -- residents ------------------------------------------------------------------------------
    def _residents(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("residents")
        people = _PeopleMaker(rng, ctx.as_of)
        featured_ids = {c.pk for c in self._featured.values()}
        featured = [fc for fc in self._flats if fc[1].pk in featured_ids]
        others = [fc for fc in self._flats if fc[1].pk not in featured_ids]
        rng.shuffle(featured)
        rng.shuffle(others)
        featured_budget = int(self.residents * 0.3)

        households: list[tuple[Household, list[dict]]] = []
        total = 0
        in_featured = 0
        for flat, compound in featured + others:
            if total >= self.residents:
                break
            is_featured = compound.pk in featured_ids
            if is_featured and (in_featured >= featured_budget or rng.random() < 0.06):
                continue  # vacant, or the featured compounds have had their share
            minority_mix = compound.name == "力作苑小区"
            members = people.household(
                rental=flat.is_rental,
                minority_mix=minority_mix,
                old_compound=(compound.built_year or 2000) < 2000,
            )
            members = members[: self.residents - total]
            total += len(members)
            if is_featured:
                in_featured += len(members)
            grid_id = self._grid_of_flat[flat.pk]
            registered = ctx.as_of - dt.timedelta(days=rng.randint(30, 365 * 25))
            household = Household(
                flat=flat,
                grid_id=grid_id,
                path=compound.path,
                tenure=Tenure.RENTED if flat.is_rental else Tenure.OWNER,
                registered_on=registered,
            )
            households.append((household, members))

        saved = Household.objects.bulk_create([h for h, _m in households], batch_size=1000)
        phones = iter(range(DEMO_PHONE_BASE + RESIDENT_ACCOUNTS + 1, DEMO_PHONE_BASE + 10**6))
        persons, links = [], []
        for household, (_h, members) in zip(saved, households, strict=True):
            for m in members:
                phone = str(next(phones)) if m["has_phone"] else ""
                person = Person(
                    name=m["name"],
                    gender=m["gender"],
                    birth_date=m["birth"],
                    ethnic_group=m["ethnic"],
                    id_number=m["id_number"],
                    id_number_hash=id_number_hash(m["id_number"]),
                    phone=phone,
                    phone_hash=phone_hash(phone) if phone else "",
                    grid_id=household.grid_id,
                    path=household.path,
                )
                persons.append(person)
                links.append((household, person, m))
        Person.objects.bulk_create(persons, batch_size=1000)
        members_rows, tags = [], []
        for household, person, m in links:
            members_rows.append(
                HouseholdMember(
                    household=household,
                    person=person,
                    relation=m["relation"],
                    joined_on=max(household.registered_on, m["birth"]),
                )
            )
            tags.extend(PersonTag(person=person, tag=t) for t in sorted(m["tags"]))
        HouseholdMember.objects.bulk_create(members_rows, batch_size=2000)
        PersonTag.objects.bulk_create(tags, batch_size=2000)
        self._people = links
        ctx.counts.update(households=len(saved), residents=len(persons), person_tags=len(tags))
        self._step(f"residents: {len(persons)} people in {len(saved)} households, {len(tags)} tags")

    # -- organisations --------------------------------------------------------------------------
    def _organisations(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("organisations")
        d = ctx.district
        orgs = ctx.orgs

        def add(level: list, kind, code, name, area, *, short="", parent=None, compound=None, address=""):
            org = Organisation(
                kind=kind,
                code=code,
                name=name,
                short_name=short[:40],
                parent=parent,
                area=area,
                compound=compound,
                address=address,
            )
            orgs[code] = org
            level.append(org)
            return org

        def save(level: list) -> None:
            for org in level:  # parents were saved by the previous level; refresh their ids
                if org.parent is not None:
                    org.parent_id = org.parent.pk
            Organisation.objects.bulk_create(level, batch_size=1000)

        top: list = []
        office = add(
            top,
            OrgKind.DISTRICT_OFFICE,
            "510106-QWQZF",
            "中共金牛区委 金牛区人民政府",
            d,
            short="金牛区委区政府",
        )
        committee = add(
            top, OrgKind.PARTY_COMMITTEE, "510106-QW", "中共成都市金牛区委员会", d, short="金牛区委"
        )
        companies = [
            add(top, OrgKind.PROPERTY_COMPANY, f"510106-WY{i:02d}", name, d, short=name[2:6])
            for i, name in enumerate(J.PROPERTY_COMPANIES, 1)
        ]
        save(top)

        second: list = []
        for name, short, slug in J.DEPARTMENTS:
            add(second, OrgKind.DEPARTMENT, f"510106-{slug.upper()}", name, d, short=short, parent=office)
        add(
            second,
            OrgKind.GRID_CENTRE,
            "510106-WGZX",
            "金牛区网格化服务管理中心",
            d,
            short="区网格中心",
            parent=office,
        )
        for street in ctx.streets:
            add(
                second,
                OrgKind.STREET_OFFICE,
                f"{street.code}-BSC",
                f"金牛区{street.name}办事处",
                street,
                short=street.name,
                parent=office,
            )
            add(
                second,
                OrgKind.PARTY_COMMITTEE,
                f"{street.code}-DGW",
                f"中共金牛区{street.name}工作委员会",
                street,
                short=f"{street.name}党工委",
                parent=committee,
            )
        social_top = {}
        for name, short, cslug in J.SOCIAL_ORGANISATIONS:
            if cslug is None:
                social_top[name] = add(
                    second,
                    OrgKind.SOCIAL_ORGANISATION,
                    f"510106-SZ{len(social_top) + 1:02d}",
                    name,
                    d,
                    short=short,
                )
        save(second)

        third: list = []
        by_slug = {ctx.slug[c.pk]: c for c in ctx.communities}
        for community in ctx.communities:
            slug = ctx.slug[community.pk]
            street_code = community.code[:9]
            add(
                third,
                OrgKind.COMMUNITY_STATION,
                f"{community.code}-SQZ",
                f"{community.name}工作站",
                community,
                short=community.name,
                parent=orgs[f"{street_code}-BSC"],
                address=J.COMMUNITY_STATION_ADDRESS.get(slug, f"{community.name}党群服务中心"),
            )
            add(
                third,
                OrgKind.PARTY_COMMITTEE,
                f"{community.code}-DW",
                f"中共{community.name}委员会",
                community,
                short=f"{community.name}党委",
                parent=orgs[f"{street_code}-DGW"],
            )
        xinqiao = by_slug["xinqiao"]
        add(
            third,
            OrgKind.DEPARTMENT,
            f"{xinqiao.code}-JWS",
            "新桥社区警务室",
            xinqiao,
            short="新桥警务室",
            parent=orgs["510106-GAJ"],
            address="新桥社区党群服务中心旁",
        )
        save(third)

        fourth: list = []
        for i, (name, short, cslug) in enumerate(J.SOCIAL_ORGANISATIONS, 1):
            if cslug is not None:
                community = by_slug[cslug]
                add(
                    fourth,
                    OrgKind.SOCIAL_ORGANISATION,
                    f"{community.code}-SZ{i:02d}",
                    name,
                    community,
                    short=short,
                    parent=orgs[f"{community.code}-SQZ"],
                )
        featured_ids = {c.pk for c in self._featured.values()}
        counter: dict[int, int] = {}
        for compound in ctx.compounds:
            counter[compound.community_id] = counter.get(compound.community_id, 0) + 1
            base = (
                f"{compound.path.rstrip('/').rsplit('/', 1)[-1][:12]}-X{counter[compound.community_id]:03d}"
            )
            grid = compound.grid
            key = compound.pk in featured_ids
            if key or rng.random() < 0.3:
                add(
                    fourth,
                    OrgKind.PARTY_BRANCH,
                    f"{base}-DZB",
                    f"中共{compound.name}支部委员会",
                    grid,
                    short=f"{compound.name}党支部",
                    parent=orgs[f"{compound.community.code}-DW"],
                    compound=compound,
                )
            if not compound.has_property_company and (key or rng.random() < 0.7):
                add(
                    fourth,
                    OrgKind.SELF_GOVERNANCE_GROUP,
                    f"{base}-ZZ",
                    f"{compound.name}院落自治管理小组",
                    grid,
                    short=f"{compound.name}自治小组",
                    parent=orgs[f"{compound.community.code}-SQZ"],
                    compound=compound,
                )
            if compound.has_property_company and (compound.built_year or 0) >= 1995 and rng.random() < 0.35:
                add(
                    fourth,
                    OrgKind.OWNERS_COMMITTEE,
                    f"{base}-YWH",
                    f"{compound.name}业主委员会",
                    grid,
                    short=f"{compound.name}业委会",
                    parent=orgs[f"{compound.community.code}-SQZ"],
                    compound=compound,
                )
            if compound.has_property_company:
                company = rng.choice(companies)
                add(
                    fourth,
                    OrgKind.PROPERTY_COMPANY,
                    f"{base}-WY",
                    f"{company.name}{compound.name}服务中心",
                    grid,
                    short=f"{compound.name}物业",
                    parent=company,
                    compound=compound,
                )
        save(fourth)
        ctx.counts["organisations"] = len(orgs)
        self._step(f"organisations: {len(orgs)}")

    # -- accounts -------------------------------------------------------------------------------
    def _accounts(self) -> None:
        ctx = self.ctx
        rng = ctx.rng("staff")
        names = _PeopleMaker(rng, ctx.as_of)
        orgs = ctx.orgs
        d = ctx.district
        community_by_slug = {ctx.slug[c.pk]: c for c in ctx.communities}
        since = ctx.as_of - dt.timedelta(days=400)
        # username → (display name, is superuser, [(org, role, jurisdiction, title, unit leader)])
        plan: dict[str, tuple[str, bool, list]] = {}

        def staff(username, org, role, area, title="", *, leader=False, superuser=False):
            plan[username] = (names.staff_name(), superuser, [(org, role, area, title, leader)])

        office, centre = orgs["510106-QWQZF"], orgs["510106-WGZX"]
        staff("admin", office, Role.ADMIN, d, "系统管理员", superuser=True)
        staff("leader", office, Role.LEADER, d, "区委常委", leader=True)
        staff("mentor", orgs["510106-SZW"], Role.MENTOR, community_by_slug["xibeijie"], "对口指导干部")
        staff("mentor2", orgs["510106-MZJ"], Role.MENTOR, community_by_slug["xinqiao"], "对口指导干部")
        staff("dispatcher", centre, Role.DISPATCHER, d, "调度员")
        staff("dispatcher2", centre, Role.DISPATCHER, d, "调度员")
        staff("dispatch_lead", centre, Role.DISPATCHER, d, "中心主任", leader=True)
        for _name, _short, slug in J.DEPARTMENTS:
            staff(f"dept_{slug}", orgs[f"510106-{slug.upper()}"], Role.DEPARTMENT_STAFF, d, "经办人")
        for street in ctx.streets:
            staff(
                f"street_{ctx.slug[street.pk]}",
                orgs[f"{street.code}-BSC"],
                Role.STREET_STAFF,
                street,
                "综治中心工作人员",
            )
        grids_of: dict[int, list[Area]] = {}
        for grid in ctx.grids:
            grids_of.setdefault(grid.parent_id, []).append(grid)
        for community in ctx.communities:
            slug = ctx.slug[community.pk]
            station = orgs[f"{community.code}-SQZ"]
            staff(f"community_{slug}", station, Role.COMMUNITY_STAFF, community, "社区工作者")
            staff(
                f"party_{slug}",
                orgs[f"{community.code}-DW"],
                Role.PARTY_SECRETARY,
                community,
                "社区党委书记",
                leader=True,
            )
            for k, grid in enumerate(grids_of[community.pk], 1):
                staff(f"grid_{slug}_{k}", station, Role.GRID_WORKER, grid, "专职网格员")
        for slug, compound in self._featured.items():
            short = {"xibeijie": "lizuoyuan", "xinqiao": "xinqiao_xq", "zaozixiang": "zaozixiang_xq"}[slug]
            grid = next(g for g in ctx.grids if g.pk == compound.grid_id)
            for org in compound_orgs(orgs, compound):
                if org.kind == OrgKind.PARTY_BRANCH:
                    staff(f"party_{short}", org, Role.PARTY_SECRETARY, grid, "小区党支部书记", leader=True)
                elif org.kind == OrgKind.SELF_GOVERNANCE_GROUP:
                    staff(f"group_{short}", org, Role.GROUP_MEMBER, grid, "自治管理小组组长", leader=True)
                elif org.kind == OrgKind.OWNERS_COMMITTEE:
                    staff(f"owners_{short}", org, Role.GROUP_MEMBER, grid, "业委会主任", leader=True)
        xinqiao_photo = next(o for o in orgs.values() if o.name == "新桥社区光影摄影队")
        xibeijie_aid = next(o for o in orgs.values() if o.name == "西北街社区民族团结互助会")
        staff("volunteer", xinqiao_photo, Role.VOLUNTEER, community_by_slug["xinqiao"], "志愿者")
        staff("volunteer2", xibeijie_aid, Role.VOLUNTEER, community_by_slug["xibeijie"], "志愿者")

        password = make_password(DEMO_PASSWORD)  # hashed once: every demo account shares it
        users = self._upsert_users(
            {
                username: {
                    "kind": User.Kind.STAFF,
                    "display_name": display,
                    "is_superuser": superuser,
                    "is_staff": superuser,
                    "password": password,
                }
                for username, (display, superuser, _m) in plan.items()
            }
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    user=users[username],
                    organisation=org,
                    role=role,
                    jurisdiction=area,
                    title=title,
                    is_unit_leader=leader,
                    since=since,
                )
                for username, (_d, _s, memberships) in plan.items()
                for org, role, area, title, leader in memberships
            ],
            batch_size=1000,
        )

        residents = self._resident_accounts()
        ctx.users = {**users, **residents}
        ctx.counts.update(
            staff_accounts=len(users),
            memberships=Membership.objects.filter(user__in=users.values()).count(),
            resident_accounts=len(residents),
        )
        self._step(f"accounts: {len(users)} staff, {len(residents)} residents")

    def _resident_accounts(self) -> dict[str, User]:
        """Five residents sign in by SMS code: in 力作苑, 新桥, 枣子巷, an elderly person living alone, a
        tenant. Their register entries get the matching phone numbers."""
        featured = {c.pk: slug for slug, c in self._featured.items()}
        adults = [(h, p, m) for h, p, m in self._people if m["age"] >= 18]
        picks: list[tuple[Person, bool]] = []

        def pick(test, elderly_mode=False):
            for h, p, m in adults:
                if test(h, p, m) and all(p is not q for q, _e in picks):
                    picks.append((p, elderly_mode))
                    return
            for _h, p, _m in adults:  # small demo: fall back to any adult
                if all(p is not q for q, _e in picks):
                    picks.append((p, elderly_mode))
                    return

        compound_of_flat = {f.pk: c.pk for f, c in self._flats}

        def in_featured(slug):
            return lambda h, p, m: featured.get(compound_of_flat[h.flat_id]) == slug

        pick(lambda h, p, m: in_featured("xibeijie")(h, p, m) and m["ethnic"] != "汉族")
        pick(in_featured("xinqiao"))
        pick(in_featured("zaozixiang"))
        xibeijie = next(c.path for c in self.ctx.communities if self.ctx.slug[c.pk] == "xibeijie")
        pick(lambda h, p, m: Tag.LIVING_ALONE in m["tags"] and h.path.startswith(xibeijie), elderly_mode=True)
        pick(lambda h, p, m: Tag.TENANT in m["tags"] and compound_of_flat[h.flat_id] not in featured)

        fields = {}
        for i, (person, elderly_mode) in enumerate(picks[:RESIDENT_ACCOUNTS], 1):
            phone = str(DEMO_PHONE_BASE + i)
            person.phone, person.phone_hash = phone, phone_hash(phone)
            fields[f"resident-demo{i}"] = {
                "kind": User.Kind.RESIDENT,
                "display_name": person.name,
                "is_superuser": False,
                "is_staff": False,
                "password": "!demo-sms-sign-in-only",
                "phone": phone,
                "phone_hash": person.phone_hash,
                "person": person,
                "elderly_mode": elderly_mode,
            }
        Person.objects.bulk_update([p for p, _e in picks[:RESIDENT_ACCOUNTS]], ["phone", "phone_hash"])
        return self._upsert_users(fields)

    @staticmethod
    def _upsert_users(fields_by_username: dict[str, dict]) -> dict[str, User]:
        """Create the demo accounts, or refresh the ones an earlier load made (they are never deleted:
        the audit trail refers to them). An account that already holds a demo phone is reused."""
        existing = {u.username: u for u in User.objects.filter(username__in=fields_by_username)}
        hashes = {f["phone_hash"]: name for name, f in fields_by_username.items() if f.get("phone_hash")}
        for user in User.objects.filter(phone_hash__in=hashes).exclude(username__in=fields_by_username):
            existing[hashes[user.phone_hash]] = user
        new, changed = [], []
        for username, fields in fields_by_username.items():
            user = existing.get(username)
            if user is None:
                user = User(username=username)
                new.append(user)
            else:
                changed.append(user)
            user.is_active = True
            for name, value in fields.items():
                setattr(user, name, value)
        User.objects.bulk_create(new)
        if changed:
            names = sorted({k for f in fields_by_username.values() for k in f} | {"is_active"})
            User.objects.bulk_update(changed, names)
        return {
            username: (existing.get(username) or next(u for u in new if u.username == username))
            for username in fields_by_username
        }

    # -- other modules --------------------------------------------------------------------------
    def _module_hooks(self) -> None:
        for label, module in demo_modules():
            hook = getattr(module, "demo_load", None)
            if hook is None:
                continue
            added = hook(self.ctx) or {}
            self.ctx.counts.update(added)
            self._step(f"{label}: " + ", ".join(f"{v} {k}" for k, v in added.items()))


def demo_modules():
    """``(app label, module)`` for every installed Linli app with a ``demo`` module. Such a module may
    define ``demo_load(context) -> dict[str, int]`` (called after the core demo is loaded) and
    ``demo_unload() -> int`` (called by ``load_demo --reset`` before the district is deleted, for its
    demo rows that hang on no area, such as catalogues)."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("linli.") or config.name == "linli.demo":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        found.append((config.label, module))
    return found


def compound_orgs(orgs: dict[str, Organisation], compound: Compound) -> list[Organisation]:
    return [
        o for o in orgs.values() if o.compound is compound or (o.compound_id and o.compound_id == compound.pk)
    ]


class _PeopleMaker:
    """Invented people: names, birth dates, valid ID numbers, ethnic groups, relations, tags."""

    def __init__(self, rng: random.Random, as_of: dt.date):
        self.rng = rng
        self.as_of = as_of
        self.used_ids: set[str] = set()
        self.surname_weights = [1 / (i + 8) for i in range(len(P.SURNAMES))]

    # names
    def surname(self) -> str:
        return self.rng.choices(P.SURNAMES, self.surname_weights)[0]

    def given(self, gender: str, birth_year: int) -> str:
        era = "old" if birth_year < 1965 else ("mid" if birth_year < 1990 else "young")
        return self.rng.choice(P.GIVEN[(era, gender)])

    def staff_name(self) -> str:
        gender = self.rng.choice("MF")
        return self.surname() + self.given(gender, self.rng.randint(1968, 1998))

    def name(self, gender: str, birth_year: int, ethnic: str, family: str | None) -> str:
        rng = self.rng
        if ethnic == "藏族":
            first = rng.choice(P.TIBETAN_PARTS[gender])
            second = rng.choice([s for s in P.TIBETAN_SECOND[gender] if s != first])
            return first + second
        if ethnic == "彝族":
            return (family or rng.choice(P.YI_FAMILY)) + rng.choice(P.YI_GIVEN[gender])
        if family is None:
            pool = P.HUI_SURNAMES if ethnic == "回族" else P.QIANG_SURNAMES if ethnic == "羌族" else None
            family = rng.choice(pool) if pool else self.surname()
        return family + self.given(gender, birth_year)

    # dates and numbers
    def birth(self, age: int) -> dt.date:
        start = dt.date(self.as_of.year - age - 1, self.as_of.month, self.as_of.day) + dt.timedelta(days=1)
        return start + dt.timedelta(days=self.rng.randint(0, 364))

    def id_number(self, region: str, birth: dt.date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(1 if gender == Gender.MALE else 2, 1000, 2)
            number = idcard.make(region, birth, seq)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def region(self, ethnic: str, *, floating: bool) -> str:
        rng = self.rng
        if ethnic in P.REGION_BY_ETHNIC and rng.random() < 0.7:
            return rng.choice(P.REGION_BY_ETHNIC[ethnic])
        if floating:
            return rng.choice(P.REGION_SICHUAN)
        roll = rng.random()
        if roll < 0.68:
            return P.REGION_LOCAL
        return rng.choice(P.REGION_CHENGDU) if roll < 0.9 else rng.choice(P.REGION_SICHUAN)

    # households
    def household(self, *, rental: bool, minority_mix: bool, old_compound: bool) -> list[dict]:
        rng = self.rng
        weights = P.ETHNIC_WEIGHTS_FEATURED_MINORITY if minority_mix else P.ETHNIC_WEIGHTS_DEFAULT
        ethnic = rng.choices([e for e, _w in weights], [w for _e, w in weights])[0]
        kinds = P.RENTAL_KINDS if rental else P.HOUSEHOLD_KINDS
        kind = rng.choices([k for k, _w in kinds], [w for _k, w in kinds])[0]
        floating = rental and rng.random() < 0.7 or (not rental and rng.random() < 0.03)
        g = rng.choice((Gender.MALE, Gender.FEMALE))
        other = Gender.FEMALE if g == Gender.MALE else Gender.MALE
        specs: list[tuple[str, str, int]] = []  # (relation, gender, age)
        if kind == "elder_alone":
            specs = [
                (
                    Relation.HOUSEHOLDER,
                    rng.choices((Gender.FEMALE, Gender.MALE), (65, 35))[0],
                    rng.randint(63, 93),
                )
            ]
        elif kind == "elder_couple":
            age = rng.randint(62, 88)
            specs = [
                (Relation.HOUSEHOLDER, Gender.MALE, age),
                (Relation.SPOUSE, Gender.FEMALE, max(60, age - rng.randint(0, 5))),
            ]
        elif kind in ("family", "three_generations", "single_parent", "tenant_family"):
            age = rng.randint(30, 55) if kind != "tenant_family" else rng.randint(26, 42)
            specs = [(Relation.HOUSEHOLDER, g, age)]
            if kind != "single_parent":
                specs.append((Relation.SPOUSE, other, max(22, age + rng.randint(-4, 4))))
            for _ in range(rng.choices((1, 2, 3), (62, 33, 5))[0] if kind != "single_parent" else 1):
                child_age = age - rng.randint(23, 34)
                if child_age >= 0:
                    specs.append((Relation.CHILD, rng.choice((Gender.MALE, Gender.FEMALE)), child_age))
            if kind == "three_generations":
                p_age = min(96, age + rng.randint(24, 32))
                specs.append((Relation.PARENT, Gender.FEMALE, p_age))
                if rng.random() < 0.45:
                    specs.append((Relation.PARENT, Gender.MALE, min(96, p_age + rng.randint(0, 4))))
        elif kind == "young_couple":
            age = rng.randint(24, 38)
            specs = [
                (Relation.HOUSEHOLDER, g, age),
                (Relation.SPOUSE, other, max(22, age + rng.randint(-3, 3))),
            ]
        elif kind == "single":
            specs = [(Relation.HOUSEHOLDER, g, rng.randint(22, 58))]
        elif kind == "grandparents_grandchild":
            age = rng.randint(60, 78)
            specs = [(Relation.HOUSEHOLDER, Gender.FEMALE, age)]
            if rng.random() < 0.6:
                specs.append((Relation.SPOUSE, Gender.MALE, age + rng.randint(0, 4)))
            specs.append((Relation.GRANDCHILD, rng.choice((Gender.MALE, Gender.FEMALE)), rng.randint(3, 15)))
        elif kind == "tenant_single":
            specs = [(Relation.HOUSEHOLDER, g, rng.randint(19, 45))]
        elif kind == "tenant_couple":
            age = rng.randint(22, 42)
            specs = [
                (Relation.HOUSEHOLDER, g, age),
                (Relation.SPOUSE, other, max(20, age + rng.randint(-3, 3))),
            ]
        else:  # tenant_shared
            specs = [(Relation.HOUSEHOLDER, g, rng.randint(20, 35))]
            specs += [
                (Relation.TENANT, rng.choice((Gender.MALE, Gender.FEMALE)), rng.randint(19, 35))
                for _ in range(rng.randint(1, 2))
            ]

        family_name = None
        members = []
        low_income = rng.random() < (0.05 if old_compound else 0.025)
        for relation, gender, age in specs:
            birth = self.birth(age)
            own_ethnic = ethnic
            if relation in (Relation.SPOUSE, Relation.TENANT) and ethnic != "汉族" and rng.random() < 0.25:
                own_ethnic = "汉族"
            if relation == Relation.TENANT:
                own_ethnic = rng.choices(
                    [e for e, _w in P.ETHNIC_WEIGHTS_DEFAULT], [w for _e, w in P.ETHNIC_WEIGHTS_DEFAULT]
                )[0]
            inherits = relation in (Relation.CHILD, Relation.GRANDCHILD) and rng.random() < 0.9
            name = self.name(gender, birth.year, own_ethnic, family_name if inherits else None)
            if relation == Relation.HOUSEHOLDER and own_ethnic not in ("藏族",):
                family_name = name[:2] if own_ethnic == "彝族" else name[:1]
            born_here = relation in (Relation.CHILD, Relation.GRANDCHILD) and not floating
            region = P.REGION_LOCAL if born_here else self.region(own_ethnic, floating=floating)
            members.append(
                {
                    "name": name,
                    "gender": gender,
                    "birth": birth,
                    "age": age,
                    "ethnic": own_ethnic,
                    "relation": relation,
                    "id_number": self.id_number(region, birth, gender),
                    "has_phone": age >= 16 and rng.random() < (0.6 if age >= 80 else 0.92),
                    "tags": self._tags(
                        age, gender, own_ethnic, rental=rental, floating=floating, low_income=low_income
                    ),
                }
            )
        ages = [m["age"] for m in members]
        for m in members:
            if m["age"] >= 60 and len(members) == 1:
                m["tags"].add(Tag.LIVING_ALONE)
                if rng.random() < 0.06 and Tag.LOW_INCOME not in m["tags"]:
                    m["tags"].add(Tag.SPECIAL_HARDSHIP)
            if m["age"] >= 60 and len(members) > 1 and min(ages) >= 60:
                m["tags"].add(Tag.EMPTY_NEST)
        return members

    def _tags(
        self, age: int, gender: str, ethnic: str, *, rental: bool, floating: bool, low_income: bool
    ) -> set[str]:
        rng = self.rng
        tags: set[str] = set()
        if age >= 60:
            tags.add(Tag.ELDERLY)
        if rng.random() < (0.12 if age >= 80 else 0.07 if age >= 60 else 0.02):
            tags.add(Tag.DISABLED)
        if low_income:
            tags.add(Tag.LOW_INCOME)
        if age >= 18 and rng.random() < (0.16 if age >= 60 and gender == Gender.MALE else 0.07):
            tags.add(Tag.PARTY_MEMBER)
        if rental:
            tags.add(Tag.TENANT)
        if floating:
            tags.add(Tag.FLOATING)
        if ethnic != "汉族":
            tags.add(Tag.ETHNIC_MINORITY)
        if gender == Gender.MALE and age >= 45 and rng.random() < 0.04:
            tags.add(Tag.VETERAN)
        return tags
