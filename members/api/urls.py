"""Routes of the people API, registered on the v1 router in config/api_router.py."""

from .views import ResidentViewSet, SecondmentViewSet, StaffViewSet, TeamViewSet

routes = [
    ("staff", StaffViewSet, "staff"),
    ("secondments", SecondmentViewSet, "secondment"),
    ("teams", TeamViewSet, "team"),
    ("residents", ResidentViewSet, "resident"),
]
