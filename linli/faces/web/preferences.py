"""The elderly-friendly mode (适老化): larger text, higher contrast, bigger touch targets.

The choice lives in the session, so it works before signing in, and on the account of a signed-in
user, so it follows them to other devices."""

from django.contrib.auth import get_user_model

SESSION_KEY = "linli_elderly_mode"


def elderly_mode_of(request) -> bool:
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        return bool(session[SESSION_KEY])
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "elderly_mode", False))


def elderly_mode_set(request, *, enabled: bool) -> None:
    request.session[SESSION_KEY] = enabled
    user = request.user
    if user.is_authenticated and user.elderly_mode != enabled:
        # A preference of the account itself, not a change of governance data: no audit row.
        get_user_model().objects.filter(pk=user.pk).update(elderly_mode=enabled)
        user.elderly_mode = enabled
