"""The v1 API router: every app's viewsets are registered here, under /api/v1/ (DESIGN.md §8)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api.views import JobViewSet, ObtainTokenView

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")

app_name = "api"
urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    *router.urls,
]
