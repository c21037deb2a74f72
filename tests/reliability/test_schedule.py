"""Every task that beat schedules is one a worker knows (a worker discards a message of an unknown task)."""

import json
import subprocess
import sys

from django.conf import settings

# What a fresh worker process registers: the apps' tasks.py by autodiscovery, the project's by name.
REGISTERED = (
    "import django; django.setup(); from crm_project.celery import app; "
    "app.loader.import_default_modules(); import json; print(json.dumps(sorted(app.tasks)))"
)


def test_every_scheduled_task_is_registered_in_a_fresh_worker_process():
    env = {"DJANGO_SETTINGS_MODULE": "crm_project.settings_test", "PATH": "/usr/bin:/bin"}
    output = subprocess.run(
        [sys.executable, "-c", REGISTERED], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout

    registered = set(json.loads(output.strip().splitlines()[-1]))
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - registered == set()
