from ninja import NinjaAPI

api = NinjaAPI(title="Linli API", version="1", urls_namespace="api")
