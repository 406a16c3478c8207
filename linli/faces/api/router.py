"""The one versioned API, /api/v1/. Each app contributes a router from its own ``api.py``; errors
of every kind come back as RFC 9457 problem details."""

from ninja import NinjaAPI

from linli.core.problems import install_problem_handlers

api = NinjaAPI(title="Linli API", version="1", urls_namespace="api")
install_problem_handlers(api)
api.add_router("/accounts/", "linli.core.accounts.api.router")
api.add_router("/places/", "linli.core.places.api.router")
api.add_router("/register/", "linli.core.people.api.router")
api.add_router("/orgs/", "linli.core.orgs.api.router")
