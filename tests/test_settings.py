"""
Settings read from the environment: the helpers refuse bad values with a
message naming the variable, and a production environment starts cleanly.
"""

import os
import re
import secrets
import shlex
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import (
    BASE_DIR,
    database_config,
    env_bool,
    env_choice,
    env_int,
    env_list,
)

# env_bool


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_env_bool_reads_yes_values_as_true(monkeypatch, raw):
    monkeypatch.setenv("ANNOTATE_TEST_FLAG", raw)
    assert env_bool("ANNOTATE_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_reads_no_values_as_false(monkeypatch, raw):
    monkeypatch.setenv("ANNOTATE_TEST_FLAG", raw)
    assert env_bool("ANNOTATE_TEST_FLAG", True) is False


def test_env_bool_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("ANNOTATE_TEST_FLAG", raising=False)
    assert env_bool("ANNOTATE_TEST_FLAG", True) is True
    assert env_bool("ANNOTATE_TEST_FLAG", False) is False


def test_env_bool_refuses_a_value_that_is_not_yes_or_no_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured) as error:
        env_bool("ANNOTATE_TEST_FLAG", True)
    assert str(error.value) == (
        "ANNOTATE_TEST_FLAG='maybe' is not a yes/no value; "
        "use one of 1, true, yes, on, 0, false, no, off."
    )


# env_int


def test_env_int_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_NUMBER", " 587 ")
    assert env_int("ANNOTATE_TEST_NUMBER", 25) == 587


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_env_int_falls_back_to_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("ANNOTATE_TEST_NUMBER", raising=False)
    else:
        monkeypatch.setenv("ANNOTATE_TEST_NUMBER", raw)
    assert env_int("ANNOTATE_TEST_NUMBER", 25) == 25


@pytest.mark.parametrize("raw", ["twelve", "1.5", "10s"])
def test_env_int_refuses_a_value_that_is_not_a_whole_number(monkeypatch, raw):
    monkeypatch.setenv("ANNOTATE_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("ANNOTATE_TEST_NUMBER", 25)
    assert str(error.value) == f"ANNOTATE_TEST_NUMBER={raw!r} is not a whole number."


def test_env_int_refuses_a_value_below_the_minimum(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("ANNOTATE_TEST_NUMBER", 10, minimum=1)
    assert str(error.value) == "ANNOTATE_TEST_NUMBER='0' must be at least 1."


# env_list


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_LIST", " annotate.example.org, www.example.org ,, ")
    assert env_list("ANNOTATE_TEST_LIST", ["localhost"]) == [
        "annotate.example.org",
        "www.example.org",
    ]


def test_env_list_falls_back_to_the_default_only_when_unset(monkeypatch):
    monkeypatch.delenv("ANNOTATE_TEST_LIST", raising=False)
    assert env_list("ANNOTATE_TEST_LIST", ["localhost"]) == ["localhost"]
    monkeypatch.setenv("ANNOTATE_TEST_LIST", "")
    assert env_list("ANNOTATE_TEST_LIST", ["localhost"]) == []


# env_choice


def test_env_choice_accepts_a_listed_value_in_any_case(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_CHOICE", " Database ")
    assert env_choice("ANNOTATE_TEST_CHOICE", "immediate", {"immediate", "database"}) == (
        "database"
    )


def test_env_choice_falls_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("ANNOTATE_TEST_CHOICE", raising=False)
    assert env_choice("ANNOTATE_TEST_CHOICE", "immediate", {"immediate", "database"}) == (
        "immediate"
    )


def test_env_choice_refuses_an_unlisted_value_and_lists_the_choices(monkeypatch):
    monkeypatch.setenv("ANNOTATE_TEST_CHOICE", "celery")
    with pytest.raises(ImproperlyConfigured) as error:
        env_choice("ANNOTATE_TEST_CHOICE", "immediate", {"immediate", "database"})
    assert str(error.value) == "ANNOTATE_TEST_CHOICE='celery' is not one of: database, immediate."


# database_config


@pytest.mark.parametrize("url", [None, ""])
def test_without_database_url_the_database_is_sqlite_in_the_project_folder(url):
    config = database_config(url)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == BASE_DIR / "db.sqlite3"


def test_sqlite_uses_wal_a_busy_timeout_and_immediate_transactions():
    options = database_config(None)["OPTIONS"]
    pragmas = options["init_command"]
    assert "PRAGMA journal_mode=WAL;" in pragmas
    assert "PRAGMA busy_timeout=20000;" in pragmas
    assert "PRAGMA foreign_keys=ON;" in pragmas
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20


def test_a_sqlite_database_url_gets_the_same_sqlite_options(tmp_path):
    config = database_config(f"sqlite:///{tmp_path}/annotate.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/annotate.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL;" in config["OPTIONS"]["init_command"]
    assert config["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_database_url_is_parsed_into_its_parts(scheme):
    config = database_config(f"{scheme}://annotate:s3cret@db.example.org:6543/annotate_prod")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "annotate_prod"
    assert config["USER"] == "annotate"
    assert config["PASSWORD"] == "s3cret"
    assert config["HOST"] == "db.example.org"
    assert config["PORT"] == 6543
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


def test_an_unsupported_database_url_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured) as error:
        database_config("mysql://annotate:s3cret@db.example.org/annotate")
    assert str(error.value) == (
        "DATABASE_URL uses 'mysql'; annotate supports postgres://… and sqlite:///…"
    )


# Starting Django with a controlled environment

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "annotate.example.org",
    "AKISMET_API_KEY": "a-production-key",
    "SITE_URL": "https://annotate.example.org",
}


def run_django(*args: str, **env: str) -> subprocess.CompletedProcess:
    """
    Run Python in the project with only PATH, HOME and `env`, so that the
    developer's own variables (DATABASE_URL, DJANGO_DEBUG, ...) do not leak in.
    """
    minimal_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONIOENCODING": "utf-8",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=minimal_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def setup_django(**env: str) -> subprocess.CompletedProcess:
    return run_django(
        "-c",
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
    )


def test_the_laptop_defaults_start_without_any_variables():
    result = setup_django()
    assert result.returncode == 0, result.stderr


def test_with_debug_off_django_refuses_to_start_without_a_secret_key():
    result = setup_django(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set." in result.stderr
    assert "set DJANGO_SECRET_KEY to a long random string" in result.stderr


def test_a_debug_value_that_is_not_yes_or_no_is_refused_with_a_clear_message():
    result = setup_django(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG='maybe' is not a yes/no value" in result.stderr


def test_the_production_environment_passes_the_deployment_checks_without_warnings():
    result = run_django(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_the_deployment_checks_would_catch_a_weak_secret_key():
    """The clean check above means something: a bad production setting does fail it."""
    result = run_django(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="too-short",
        **PRODUCTION_ENV,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_without_an_akismet_key_the_checks_warn_that_spam_filtering_is_off():
    env = {key: value for key, value in PRODUCTION_ENV.items() if not key.startswith("AKISMET")}
    result = run_django(
        "manage.py", "check", "--deploy", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **env
    )
    assert "Spam filtering is off: AKISMET_API_KEY is not set." in result.stderr + result.stdout


def test_without_site_url_the_deployment_checks_warn_that_email_links_may_be_wrong():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SITE_URL"}
    result = run_django(
        "manage.py", "check", "--deploy", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **env
    )
    output = result.stderr + result.stdout
    assert "annotate.W002" in output
    assert "SITE_URL is not set: links in emails fall back to https://annotate.example.org" in (
        output
    )


def test_a_site_url_without_a_scheme_is_refused_with_a_clear_message():
    result = setup_django(SITE_URL="annotate.example.org")
    assert result.returncode != 0
    assert "SITE_URL='annotate.example.org' must be a full address" in result.stderr


def test_on_a_laptop_links_point_at_the_port_that_make_run_serves():
    printed = run_django(
        "-c",
        "import django; django.setup(); from annotate.site import absolute; print(absolute('/x/'))",
        DJANGO_SETTINGS_MODULE="config.settings",
        PORT="8101",
    )
    assert printed.stdout.strip() == "http://127.0.0.1:8101/x/", printed.stderr
    with_site_url = run_django(
        "-c",
        "import django; django.setup(); from annotate.site import absolute; print(absolute('/x/'))",
        DJANGO_SETTINGS_MODULE="config.settings",
        PORT="8101",
        SITE_URL="https://annotate.example.org/",
    )
    assert with_site_url.stdout.strip() == "https://annotate.example.org/x/"


@pytest.mark.slow  # three fresh Django processes, one of them migrating a new database
def test_the_readmes_command_creates_a_moderator_without_questions(tmp_path):
    """The README's `createsuperuser --noinput` line, run as written, makes a named superuser."""
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(DJANGO_SUPERUSER_[^`]*?--noinput)\n```", readme)
    assert block, "the README shows no createsuperuser --noinput command"
    words = shlex.split(block.group(1).replace("\\\n", " "))
    env = dict(word.split("=", 1) for word in words if re.match(r"DJANGO_SUPERUSER_\w+=", word))
    assert set(env) == {
        "DJANGO_SUPERUSER_EMAIL",
        "DJANGO_SUPERUSER_DISPLAY_NAME",
        "DJANGO_SUPERUSER_PASSWORD",
    }
    assert words[-3:] == ["manage.py", "createsuperuser", "--noinput"]
    database = f"sqlite:///{tmp_path / 'readme.sqlite3'}"
    assert run_django("manage.py", "migrate", "-v0", DATABASE_URL=database).returncode == 0
    result = run_django("manage.py", "createsuperuser", "--noinput", DATABASE_URL=database, **env)
    assert result.returncode == 0, result.stderr
    shown = run_django(
        "manage.py",
        "shell",
        "-c",
        "from annotate.models import User; u = User.objects.get(); "
        "print(u.email, u.display_name, u.is_superuser, u.check_password('a long passphrase'))",
        DATABASE_URL=database,
    )
    assert "you@school.edu Your Name True True" in shown.stdout.splitlines(), shown.stderr
