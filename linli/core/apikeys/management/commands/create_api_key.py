"""``manage.py create_api_key NAME [--scopes open311.post appeals.create …] [--source 12345
--callback-url https://…]``: a new partner key. The key is printed once; only its digest is kept."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.core.apikeys.models import DEFAULT_SCOPES, Scope
from linli.core.apikeys.services import api_key_create


class Command(BaseCommand):
    help = "创建合作方接口密钥 / create a partner API key (printed once)"

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=DEFAULT_SCOPES,
            choices=Scope.values,
            help="权限范围 / scopes (default: open311.post)",
        )
        parser.add_argument("--source", default="", help="下派案件的外部来源编码，如 12345 / external source")
        parser.add_argument(
            "--callback-url", default="", help="状态变化推送地址 / status-change callback URL"
        )
        parser.add_argument(
            "--by",
            default="",
            help="登记回调的管理员账号（默认第一个超级管理员）/ administrator who registers the callback",
        )
        parser.add_argument("--rate", default="", help="频率上限，如 600/m / request allowance")

    def handle(self, *args, name, scopes, source, callback_url, rate, by, **options):
        from linli.core.accounts.models import User

        subscriber = None
        if callback_url:
            admins = User.objects.filter(is_active=True, is_superuser=True)
            subscriber = (admins.filter(username=by) if by else admins.order_by("pk")).first()
            if subscriber is None:
                raise CommandError("需要一个管理员账号登记回调 / an administrator account is needed (--by)")
        try:
            issued = api_key_create(
                actor=None,
                name=name,
                scopes=scopes,
                source=source,
                callback_url=callback_url,
                rate=rate,
                subscriber=subscriber,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        key = issued.record
        self.stderr.write(
            f"{key.name}: scopes {', '.join(key.scopes)}" + (f"; source {key.source}" if key.source else "")
        )
        self.stdout.write(issued.secret)
        if issued.webhook_secret:
            self.stderr.write(f"回调签名密钥 / webhook signing secret for {key.callback_url}:")
            self.stdout.write(issued.webhook_secret)
