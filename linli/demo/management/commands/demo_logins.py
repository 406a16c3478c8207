"""``manage.py demo_logins [--all]``: the demo's sign-in accounts."""

import unicodedata

from django.core.management.base import BaseCommand

from linli.core.orgs.choices import Role
from linli.demo.generator import DEMO_PASSWORD
from linli.demo.logins import resident_logins, staff_logins

# Community staff, party secretaries and grid workers of these communities are listed; those of the
# other communities are counted unless --all.
SHOWN_COMMUNITIES = ("xibeijie", "xinqiao", "zaozixiang")
PER_COMMUNITY_ROLES = (Role.COMMUNITY_STAFF, Role.PARTY_SECRETARY, Role.GRID_WORKER)
# Roles whose jurisdiction (a grid or community) says less than their organisation does.
SHOW_ORGANISATION = (Role.PARTY_SECRETARY, Role.GROUP_MEMBER, Role.VOLUNTEER, Role.MENTOR)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "List the demo's staff accounts (role, username, password, jurisdiction) and resident phones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="list every community's staff, party secretary and grid workers",
        )

    def handle(self, *args, all=False, **options):
        logins = staff_logins()
        if not logins:
            self.stdout.write("No demo accounts: run manage.py load_demo first.")
            return
        hidden: dict[str, int] = {}
        shown = []
        for login in logins:
            if (
                not all
                and login.role in PER_COMMUNITY_ROLES
                and not any(slug in login.username for slug in SHOWN_COMMUNITIES)
            ):
                hidden[login.role_label] = hidden.get(login.role_label, 0) + 1
            else:
                shown.append(login)
        header = ("role", "username", "password", "jurisdiction")
        rows = [
            (
                f"{login.role_label} ({login.role})",
                login.username,
                login.password or "(changed)",
                f"{login.jurisdiction} · {login.organisation}"
                if login.role in SHOW_ORGANISATION
                else login.jurisdiction,
            )
            for login in shown
        ]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(3)]
        self.stdout.write(f"Demo staff accounts — password {DEMO_PASSWORD} (demo only):")
        for row in [header, *rows]:
            cells = (_pad(cell, w) for cell, w in zip(row, [*widths, 0], strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
        if hidden:
            counted = ", ".join(f"{n} {label}" for label, n in hidden.items())
            self.stdout.write(
                f"  … and for the other communities: {counted} (community_<community>, "
                "party_<community>, grid_<community>_<n>); demo_logins --all lists them."
            )
        residents = resident_logins()
        if residents:
            self.stdout.write("")
            self.stdout.write(
                "Residents sign in with phone + SMS code (the default SMS backend writes the code "
                "to the server log):"
            )
            for r in residents:
                self.stdout.write(f"  {r.phone}  {_pad(r.name, 12)}  {r.place}")
