"""
Settings for bench/render.py: the site's own settings, plus django-comments-xtd
for comparison, on a throwaway SQLite database that the benchmark creates.

Production-like where it matters to timing: DEBUG off, the cached template
loader, and the same SQLite options (and per-request connections) as a laptop
or small server.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, INSTALLED_APPS, TEMPLATES, database_config

DEBUG = False
ALLOWED_HOSTS = ["testserver"]

_database = os.environ.get("BENCH_RENDER_DATABASE")
if not _database:
    raise ImproperlyConfigured(
        "bench.render_settings is for bench/render.py, which sets BENCH_RENDER_DATABASE "
        "to a temporary file: run `python -m bench.render`."
    )
DATABASES = {"default": database_config(f"sqlite:///{_database}")}

INSTALLED_APPS = [*INSTALLED_APPS, "django_comments_xtd", "django_comments"]
COMMENTS_APP = "django_comments_xtd"
# Five levels, as the site's THREAD_DEPTH.
COMMENTS_XTD_MAX_THREAD_LEVEL = 4
COMMENTS_XTD_CONFIRM_EMAIL = False

ROOT_URLCONF = "bench.render_site"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
