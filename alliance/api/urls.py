"""Routes of the hierarchy API, registered on the v1 router in config/api_router.py."""

from .views import AllianceViewSet, DepartmentViewSet, InstitutionViewSet

routes = [
    ("alliances", AllianceViewSet, "alliance"),
    ("institutions", InstitutionViewSet, "institution"),
    ("departments", DepartmentViewSet, "department"),
]
