"""The category tree as data: ``data/categories.json`` (demo: urban management events and components,
and the 12345 domains) loaded by ``manage.py load_appeal_categories``. Loading is an upsert by code,
so it can be run again after editing the file; nothing is deleted."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from linli.core.audit.services import audit_record

from .models import Category

DEFAULT_FILE = Path(__file__).parent / "data" / "categories.json"


def _limits(entry: dict, inherited: dict) -> dict:
    fields = {}
    for key, amount_field, unit_field in (
        ("acceptance", "acceptance_limit", "acceptance_unit"),
        ("normal", "normal_limit", "normal_unit"),
        ("urgent", "urgent_limit", "urgent_unit"),
    ):
        amount, unit = entry.get(key) or inherited.get(key) or (None, None)
        if amount is not None:
            fields[amount_field], fields[unit_field] = amount, unit
    return fields


@transaction.atomic
def appeal_categories_load(
    *, actor=None, data: dict | None = None, path: Path | None = None
) -> dict[str, int]:
    if data is None:
        data = json.loads((path or DEFAULT_FILE).read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0}
    for order, domain in enumerate(data["domains"], start=1):
        parent = _upsert(actor, domain, parent=None, inherited={}, order=order, counts=counts)
        for child_order, child in enumerate(domain.get("children", []), start=1):
            _upsert(actor, child, parent=parent, inherited=domain, order=child_order, counts=counts)
    return counts


def _upsert(actor, entry: dict, *, parent, inherited: dict, order: int, counts: dict) -> Category:
    values = {
        "parent": parent,
        "name": entry["name"],
        "sort_order": order,
        "default_unit_kind": entry.get("unit_kind", inherited.get("unit_kind", "")),
        "is_public": entry.get("public", inherited.get("public", True)),
        "questions": entry.get("questions", []),
        "description": entry.get("description", ""),
        **_limits(entry, inherited),
    }
    category, created = Category.objects.update_or_create(code=entry["code"], defaults=values)
    counts["created" if created else "updated"] += 1
    audit_record(
        actor=actor,
        action="appeal_category.create" if created else "appeal_category.update",
        obj=category,
        changes={"code": category.code, "name": category.name},
    )
    return category
