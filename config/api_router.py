"""The v1 API router: every app's viewsets are registered here, under /api/v1/ (DESIGN.md §8)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from alliance.api.urls import routes as alliance_routes
from assessment.api.urls import routes as assessment_routes
from core.api.views import InboxViewSet, JobViewSet, ObtainTokenView
from encounters.api.urls import routes as encounters_routes
from members.api.urls import routes as members_routes
from members.api.views import MeView
from pharmacy.api.urls import routes as pharmacy_routes
from referrals.api.urls import routes as referrals_routes

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("inbox", InboxViewSet, basename="inbox")
routes = [
    *alliance_routes, *members_routes, *encounters_routes, *referrals_routes, *pharmacy_routes, *assessment_routes,
]  # fmt: skip
for prefix, viewset, basename in routes:
    router.register(prefix, viewset, basename=basename)

app_name = "api"
urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
