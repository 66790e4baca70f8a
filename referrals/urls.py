"""Pages of referrals (issue 7), under /referrals/."""

from django.urls import path, re_path  # noqa: F401  (each section below adds its routes)

from .views import detail as detail_views  # inbox, outbox, the referral page and its slip
from .views import lists as list_views
from .views import pools as pool_views  # slot and bed pools: template, publishing, overview
from .views import refer as refer_views  # refer up / refer down and their fragments

app_name = "referrals"

urlpatterns = [
    # --- inbox, outbox, the referral page, its actions and its slip (issue 7 points 1-3) ---
    path("inbox/", list_views.InboxView.as_view(), name="inbox"),
    path("outbox/", list_views.OutboxView.as_view(), name="outbox"),
    path("<int:pk>/", detail_views.ReferralDetailView.as_view(), name="detail"),
    path("<int:pk>/slip/", detail_views.ReferralSlipView.as_view(), name="slip"),
    re_path(
        r"^(?P<pk>\d+)/(?P<verb>submit|accept|reject|arrive|complete|no-show|refer-back|cancel)/$",
        detail_views.act,
        name="act",
    ),
    # --- refer up / refer down: the form and the fragments it loads in place (issue 7 point 2) ---
    path("new/up/", refer_views.ReferUpView.as_view(), name="refer-up"),
    path("new/down/", refer_views.ReferDownView.as_view(), name="refer-down"),
    path("new/<str:direction>/receivers/", refer_views.receivers_fragment, name="refer-receivers"),
    path("new/<str:direction>/receiver/", refer_views.receiver_fragment, name="refer-receiver"),
    path("new/calendar/", refer_views.calendar_fragment, name="refer-calendar"),
    path("new/slots/", refer_views.slots_fragment, name="refer-slots"),
    path("new/find-resident/", refer_views.find_resident_fragment, name="refer-find-resident"),
    # --- slot and bed pools: weekly template, publishing a week, overview (issue 7 point 5) ---
    path("pools/", pool_views.PoolIndexView.as_view(), name="pool-index"),
    path("pools/<int:pk>/", pool_views.TemplatePageView.as_view(), name="pool-template"),
    path("pools/<int:pk>/lines/new/", pool_views.EntryCreateView.as_view(), name="pool-entry-create"),
    path(
        "pools/<int:pk>/lines/<int:entry>/edit/",
        pool_views.EntryUpdateView.as_view(),
        name="pool-entry-update",
    ),
    path(
        "pools/<int:pk>/lines/<int:entry>/remove/",
        pool_views.EntryDeleteView.as_view(),
        name="pool-entry-delete",
    ),
    path("pools/<int:pk>/publish/", pool_views.PublishWeekView.as_view(), name="pool-publish"),
    path("pools/<int:pk>/overview/", pool_views.PoolOverviewView.as_view(), name="pool-overview"),
]
