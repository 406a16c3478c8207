"""Timeline notes the platform wrote in both languages at once ("系统按派遣规则自动派遣 / dispatched
automatically by routing rule") keep their Chinese half and gain the key and arguments that
``AppealEvent.shown_note`` says in the reader's language. The registration that came with an automatic
dispatch carried the dispatch's note; it now says it was registered automatically."""

import re

from django.db import migrations

# (key, the bilingual note as written before, the names of its arguments)
OLD_NOTES = [
    ("auto_dispatch", re.compile(r"^(系统按派遣规则自动派遣) / dispatched automatically by routing rule$"), ()),
    ("master_closed", re.compile(r"^(主件 (\S+) 已办结) / the case it was merged into is closed$"), ("ref",)),
    (
        "triage_category",
        re.compile(r"^(智能分拨按内容确定类别“(.*)”（置信度 (\d+)%）)\s*/ category chosen by smart triage$", re.S),
        ("c", "p"),
    ),
]


def split_notes(apps, schema_editor):
    AppealEvent = apps.get_model("appeals", "AppealEvent")
    events = AppealEvent.objects.filter(note__contains=" / ").only("id", "action", "note", "data")
    changed = []
    for event in events.iterator(chunk_size=2000):
        for key, pattern, names in OLD_NOTES:
            match = pattern.match(event.note)
            if match is None:
                continue
            args = dict(zip(names, match.groups()[1:], strict=True))
            if "p" in args:
                args["p"] = int(args["p"])
            event.note = match.group(1)
            if key == "auto_dispatch" and event.action == "register":
                key, event.note = "auto_register", "系统自动登记"
            event.data = {**(event.data or {}), "note_key": key, "note_args": args}
            changed.append(event)
            break
    AppealEvent.objects.bulk_update(changed, ["note", "data"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0007_lean_indexes")]

    operations = [migrations.RunPython(split_notes, migrations.RunPython.noop)]
