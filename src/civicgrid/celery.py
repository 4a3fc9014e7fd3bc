"""Celery application. Without ``CIVICGRID_BROKER_URL`` tasks run inline (the embedded mode);
with it, ``civicgrid worker`` and ``civicgrid beat`` run them (DESIGN §2)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")

app = Celery("civicgrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
