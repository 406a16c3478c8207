from ninja import Schema


class OrganisationOut(Schema):
    id: int
    kind: str
    kind_label: str
    code: str
    name: str
    short_name: str
    parent_id: int | None
    area_id: int
    area_name: str
    phone: str
    address: str
    is_active: bool

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_area_name(obj) -> str:
        return obj.area.name
