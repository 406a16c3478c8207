"""Project-level checks: settings, migrations, the two commands' contract."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_no_missing_migrations(db):
    """Every model change has its migration committed."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_settings_are_safe():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; import django; django.setup(); "
            "print(s.DEBUG, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "PATH": "/usr/bin:/bin",
            "LINLI_VAR_DIR": str(Path(settings.MEDIA_ROOT).parent / "linli-prod-check"),
        },
    )
    assert out.stdout.split() == ["False", "True", "DENY"]


def test_generated_secrets_never_tracked():
    git = ["git", "ls-files", "var"]
    tracked = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout  # noqa: S603, S607 — git
    assert tracked.strip() == ""


def test_readme_first_screen_shows_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:20])
    assert "make run" in first_screen and "make test" in first_screen


def test_api_bad_input_is_a_400_problem(client, db):
    response = client.get("/api/v1/places/locate", {"lng": "east", "lat": "30.7"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and "lng" in body["detail"]


def test_api_unknown_record_is_a_404_problem(client, django_user_model, db):
    user = django_user_model.objects.create_user("someone", password="x" * 12, is_superuser=True)
    client.force_login(user)
    response = client.get("/api/v1/register/households/999999")
    assert response.status_code == 404
    assert response.json()["status"] == 404
