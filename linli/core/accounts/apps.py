from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "linli.core.accounts"
    label = "accounts"
