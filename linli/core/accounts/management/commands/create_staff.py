"""Create a staff account and give it a role in an organisation, acting in an area.

    manage.py create_staff wang.fang --password '…' --org JN-GRID-CENTRE --role dispatcher --area 510106
    LINLI_STAFF_PASSWORD='…' manage.py create_staff … (keeps the password out of the shell history)

Without --org/--role/--area only the account is made. Rerunning with an existing username adds the
membership to that account (the password is left alone unless --reset-password is given).
"""

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from linli.core.orgs.choices import Role
from linli.core.orgs.models import Organisation
from linli.core.places.models import Area

from ...models import User
from ...services import staff_create


class Command(BaseCommand):
    help = "Create a staff account (username + password) and grant it a role in an organisation and area."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="or set LINLI_STAFF_PASSWORD")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--org", help="organisation code")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument(
            "--area", help="area code of the jurisdiction (grid, community, street, district)"
        )
        parser.add_argument("--title", default="")
        parser.add_argument("--superuser", action="store_true", help="also a Django superuser (admin site)")
        parser.add_argument(
            "--reset-password", action="store_true", help="set the password of an existing account"
        )

    def handle(
        self,
        *args,
        username,
        password,
        display_name,
        org,
        role,
        area,
        title,
        superuser,
        reset_password,
        **options,
    ):
        password = password or os.environ.get("LINLI_STAFF_PASSWORD")
        wants_membership = any([org, role, area])
        if wants_membership and not all([org, role, area]):
            raise CommandError("--org, --role and --area go together")
        try:
            with transaction.atomic():
                user = User.objects.filter(username=username).first()
                if user is None:
                    if not password:
                        raise CommandError("a new account needs --password (or LINLI_STAFF_PASSWORD)")
                    user = staff_create(
                        actor=None,
                        username=username,
                        password=password,
                        display_name=display_name,
                        is_superuser=superuser,
                    )
                    self.stdout.write(f"created staff account {username}")
                else:
                    if user.is_resident:
                        raise CommandError(f"{username} is a resident account")
                    if reset_password:
                        if not password:
                            raise CommandError("--reset-password needs --password")
                        from django.contrib.auth.password_validation import validate_password

                        from ...services import password_change

                        validate_password(password, user)
                        password_change(actor=None, user=user, new_password=password)
                        self.stdout.write(f"password of {username} reset")
                    else:
                        self.stdout.write(f"account {username} exists")
                if wants_membership:
                    self._grant(user=user, org=org, role=role, area=area, title=title)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _grant(self, *, user, org, role, area, title):
        organisation = Organisation.objects.filter(code=org).first()
        if organisation is None:
            raise CommandError(f"no organisation with code {org}")
        jurisdiction = Area.objects.filter(code=area).first()
        if jurisdiction is None:
            raise CommandError(f"no area with code {area}")
        from linli.core.orgs.services import membership_grant

        membership_grant(
            actor=None,
            user=user,
            organisation=organisation,
            role=role,
            jurisdiction=jurisdiction,
            title=title,
        )
        self.stdout.write(f"{user.username}: {role} in {organisation.name}, area {jurisdiction.name}")
