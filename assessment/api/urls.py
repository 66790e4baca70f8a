"""Routes of the indicators API, registered on the v1 router in config/api_router.py."""

from .values import IndicatorRestatementViewSet, IndicatorValueViewSet
from .views import IndicatorViewSet
from .warnings import WarningViewSet

routes = [
    ("indicators", IndicatorViewSet, "indicator"),
    ("indicator-values", IndicatorValueViewSet, "indicator-value"),
    ("indicator-restatements", IndicatorRestatementViewSet, "indicator-restatement"),
    ("warnings", WarningViewSet, "warning"),
]
