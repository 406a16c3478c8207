from ninja import Schema


class AreaOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class CompoundOut(Schema):
    id: int
    name: str
    lng: float
    lat: float


class LocationOut(Schema):
    lng: float
    lat: float
    grid: AreaOut | None
    community: AreaOut | None
    street: AreaOut | None
    compound: CompoundOut | None
    distance_m: float | None


class CandidateOut(Schema):
    kind: str
    id: int
    name: str
    label: str
    lng: float | None
    lat: float | None
    score: float
