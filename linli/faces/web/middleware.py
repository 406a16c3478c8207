"""Chinese first: the interface starts in Simplified Chinese whatever the browser's
Accept-Language says; English is chosen explicitly (the language switch, or a signed-in user's
saved preference), which Django's LocaleMiddleware then honours through the language cookie."""


class ChineseFirstMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
