"""URL configuration: pages, the admin, the health check and the v1 API."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("start/", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("inbox/", core_views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", core_views.inbox_read, name="inbox-read"),
    path("inbox/read-all/", core_views.inbox_read_all, name="inbox-read-all"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("alliance/", include("alliance.urls")),
    path("people/", include("members.urls")),
    path("encounters/", include("encounters.urls")),
    path("referrals/", include("referrals.urls")),
    path("pharmacy/", include("pharmacy.urls")),
    path("indicators/", include("assessment.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

admin.site.site_header = admin.site.site_title = _("County Medical Alliance Administration")
