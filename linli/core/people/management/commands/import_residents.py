from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from linli.core.people.importing import residents_import


class Command(BaseCommand):
    help = "从 .xlsx 或 .csv 导入居民与住户（全部成功或全部不写入） / import residents, all or nothing"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--actor", required=True, help="以该账号的身份和辖区导入 / the importing account")

    def handle(self, *args, file: Path, actor: str, **options):
        try:
            user = get_user_model().objects.get(username=actor, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"未找到账号 / no such active account: {actor}") from None
        if not file.is_file():
            raise CommandError(f"文件不存在 / no such file: {file}")
        with file.open("rb") as fh:
            report = residents_import(user, fh, file.name)
        if not report.ok:
            for e in report.errors:
                self.stderr.write(f"第{e.row}行 row {e.row}\t{e.column or '-'}\t{e.message}")
            raise CommandError(
                f"{len(report.errors)} 处错误，未写入任何数据 / errors found, nothing was written"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 {report.persons_created} 名居民，新建 {report.households_created} 户，"
                f"加入已有住户 {report.households_joined} 户 / imported {report.persons_created} persons"
            )
        )
