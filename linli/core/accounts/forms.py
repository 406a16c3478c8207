from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "138 0000 0000",
                "autofocus": True,
            }
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )


class StaffLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确 / wrong username or password"),
        "inactive": _("该账号已停用 / this account is disabled"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=12,
        help_text=_("打开手机上的身份验证器应用，输入其中显示的6位数字"),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("显示名"), max_length=60, required=False)
    language = forms.ChoiceField(
        label=_("界面语言"),
        required=False,
        choices=[("", _("跟随浏览器"))] + [(code, name) for code, name in settings.LANGUAGES],
    )
    elderly_mode = forms.BooleanField(label=_("适老化模式（大字体、高对比度）"), required=False)
