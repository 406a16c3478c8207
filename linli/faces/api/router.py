"""The one versioned API, /api/v1/. Each app contributes a router from its own ``api.py``; errors
of every kind come back as RFC 9457 problem details. Interactive docs at /api/v1/docs (Swagger UI
served from our own static files, under a CSP that allows only this site)."""

from csp.decorators import csp_update
from ninja import NinjaAPI, Swagger

from linli.core.apikeys.models import Scope
from linli.core.places.api import router as places_router
from linli.core.problems import install_problem_handlers, problem
from linli.domains.appeals.services import AppealConflict, TransitionNotAllowed

from .auth import partner_scope_guard

DESCRIPTION = """The Linli (邻里) API for the citizen app, staff apps and partner platforms.

* People: `POST /api/v1/auth/token` (staff) or `/auth/otp` + `/auth/token/sms` (residents), then
  `Authorization: Bearer <token>`.
* Partners: `X-Api-Key: <key>` (`manage.py create_api_key`), within the key's scopes.
* Every create takes an `Idempotency-Key` header; lists are cursor-paginated (`next_cursor`).
* Errors are RFC 9457 problem details (`application/problem+json`); 429 comes with `Retry-After`.
"""

api = NinjaAPI(
    title="Linli API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    # Swagger UI sets inline styles; everything it loads still comes from this site.
    docs_decorator=csp_update({"style-src": ["'unsafe-inline'"]}),
)
install_problem_handlers(api)


@api.exception_handler(AppealConflict)
def _conflict(request, exc):
    return problem(409, "conflict", "; ".join(exc.messages), code="conflict")


@api.exception_handler(TransitionNotAllowed)
def _not_now(request, exc):
    return problem(409, "transition not allowed", "; ".join(exc.messages), code="transition-not-allowed")


api.add_router("/auth/", "linli.faces.api.tokens.router")
api.add_router("/accounts/", "linli.core.accounts.api.router")
api.add_router("/appeals/", "linli.faces.api.appeals.router")
api.add_router("/attachments/", "linli.faces.api.appeals.attachments_router")
api.add_router("/categories/", "linli.faces.api.appeals.categories_router")
# Places are public, but a partner key must carry places.read to use them (people pass as before).
places_router.add_decorator(partner_scope_guard(Scope.PLACES_READ), mode="view")
api.add_router("/places/", places_router)
api.add_router("/register/", "linli.core.people.api.router")
api.add_router("/orgs/", "linli.core.orgs.api.router")
