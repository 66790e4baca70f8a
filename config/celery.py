"""The Celery app. Configuration comes from Django settings (CELERY_* names), including the beat
schedule, which django-celery-beat's database scheduler loads (DESIGN.md §6)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("healthalliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
