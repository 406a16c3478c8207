from datetime import date

from ninja import Schema

from linli.core.privacy.masking import mask_id_number, mask_phone


class MemberOut(Schema):
    person_id: int
    name: str
    relation: str
    relation_label: str

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_relation_label(obj) -> str:
        return str(obj.get_relation_display())


class HouseholdOut(Schema):
    id: int
    address: str
    compound: str
    building: str
    unit: str
    room: str
    grid_id: int
    grid_name: str
    tenure: str
    members: list[MemberOut]

    @staticmethod
    def resolve_address(obj) -> str:
        return f"{obj.flat.building.compound.name}{obj.flat.building.name}{obj.flat.unit}{obj.flat.room}"

    @staticmethod
    def resolve_compound(obj) -> str:
        return obj.flat.building.compound.name

    @staticmethod
    def resolve_building(obj) -> str:
        return obj.flat.building.name

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.flat.unit

    @staticmethod
    def resolve_room(obj) -> str:
        return obj.flat.room

    @staticmethod
    def resolve_grid_name(obj) -> str:
        return obj.grid.name

    @staticmethod
    def resolve_members(obj):
        return obj.current_members


class PersonOut(Schema):
    """A person with the ID number and phone masked; full values only through the logged reveal page."""

    id: int
    name: str
    gender: str
    birth_date: date | None
    ethnic_group: str
    id_number_masked: str
    phone_masked: str
    grid_id: int | None
    tags: list[str]
    erased: bool

    @staticmethod
    def resolve_id_number_masked(obj) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone_masked(obj) -> str:
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return sorted(t.tag for t in obj.tags.all())

    @staticmethod
    def resolve_erased(obj) -> bool:
        return obj.erased_at is not None
