from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiKeysConfig(AppConfig):
    name = "linli.core.apikeys"
    label = "apikeys"
    verbose_name = _("接口密钥与令牌")
