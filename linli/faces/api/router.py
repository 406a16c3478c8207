"""The one versioned API, /api/v1/. Each app contributes a router from its own ``api.py``."""

from ninja import NinjaAPI

api = NinjaAPI(title="Linli API", version="1", urls_namespace="api")
api.add_router("/accounts/", "linli.core.accounts.api.router")
api.add_router("/places/", "linli.core.places.api.router")
api.add_router("/register/", "linli.core.people.api.router")
api.add_router("/orgs/", "linli.core.orgs.api.router")
