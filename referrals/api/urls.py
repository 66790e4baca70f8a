"""Routes of the referrals API, registered on the v1 router in config/api_router.py."""

from .views import BedViewSet, PoolTemplateViewSet, ReferralViewSet, SlotViewSet

routes = [
    ("slots", SlotViewSet, "slot"),
    ("beds", BedViewSet, "bed"),
    ("pool-templates", PoolTemplateViewSet, "pool-template"),
    ("referrals", ReferralViewSet, "referral"),
]
