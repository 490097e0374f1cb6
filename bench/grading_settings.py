"""
Settings for bench/grading.py: the site's own settings on a throwaway
database that the benchmark creates (SQLite file or PostgreSQL database,
BENCH_GRADING_DATABASE), with DEBUG off and the cached template loader.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import database_config

DEBUG = False
ALLOWED_HOSTS = ["testserver"]

_database = os.environ.get("BENCH_GRADING_DATABASE")
if not _database:
    raise ImproperlyConfigured(
        "bench.grading_settings is for bench/grading.py, which sets BENCH_GRADING_DATABASE "
        "to a throwaway database: run `python -m bench.grading`."
    )
DATABASES = {"default": database_config(_database)}
# Background work (a score's recompute) runs in the benchmark's own process as
# soon as the work that queued it commits, so that the benchmark can time it.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
ROOT_URLCONF = "bench.grading_site"
