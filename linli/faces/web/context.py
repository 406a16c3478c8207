def interface(request):
    return {}
