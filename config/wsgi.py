import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Each server process loads the active triage model while it starts taking requests (several seconds
# for a full model), rather than during the first resident's request that needs it.
from linli.domains.triage.suggest import load_in_background  # noqa: E402 - Django is set up now

load_in_background()
