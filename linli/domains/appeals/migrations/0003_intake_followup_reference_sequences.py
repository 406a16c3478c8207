"""Intake off the request path: ``Appeal.intake_done_at`` (set by the follow-up task that routes,
audits, announces and notifies; a partial index finds the few still pending), and, on PostgreSQL,
per-day sequences for reference numbers behind ``appeals_reference_next(day)`` so that no intake
waits on another for a counter row."""

from django.db import migrations, models
from django.db.models import F, Q

REFERENCE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION appeals_reference_next(day_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'appeals_ref_' || lower(regexp_replace(day_key, '[^A-Za-z0-9]', '', 'g'));
    first_value bigint;
BEGIN
    IF to_regclass(seq) IS NOT NULL THEN
        RETURN nextval(seq::regclass);
    END IF;
    -- First intake of the day: continue after the day's counter row if numbers were already given.
    SELECT COALESCE(MAX(value), 0) + 1 INTO first_value FROM appeals_referencecounter WHERE key = day_key;
    BEGIN
        EXECUTE format('CREATE SEQUENCE %I START WITH %s', seq, first_value);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL;  -- another transaction created it first and has committed
    END;
    RETURN nextval(seq::regclass);
END
$$;
"""


def forwards(apps, schema_editor):
    Appeal = apps.get_model("appeals", "Appeal")
    Appeal.objects.filter(intake_done_at__isnull=True).update(intake_done_at=F("created_at"))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFERENCE_FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS appeals_reference_next(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0002_remove_notification"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="intake_done_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=Q(intake_done_at__isnull=True), fields=["created_at"], name="appeal_intake_pending"
            ),
        ),
    ]
