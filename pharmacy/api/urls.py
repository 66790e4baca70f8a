"""Routes of the pharmacy API, registered on the v1 router in config/api_router.py."""

from .views import DrugViewSet, FormularyViewSet

routes = [("drugs", DrugViewSet, "drug"), ("formularies", FormularyViewSet, "formulary")]
