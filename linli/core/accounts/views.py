from django.http import HttpResponse


def lockout_response(request, credentials, *args, **kwargs):
    return HttpResponse("locked", status=429)


def ratelimited(request, exception):
    return HttpResponse("too many", status=429)
