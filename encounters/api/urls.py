"""Routes of the encounters API, registered on the v1 router in config/api_router.py."""

from .views import AdmissionViewSet, SubmissionViewSet, VisitViewSet

routes = [
    ("encounters/visits", VisitViewSet, "visit"),
    ("encounters/admissions", AdmissionViewSet, "admission"),
    ("encounters/submissions", SubmissionViewSet, "submission"),
]
