"""The production set-up the README documents is the one that passes `check --deploy`.

The environment is read from README.md itself (between the `production-env` markers), so the
documentation and the tested configuration cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.environments import PROCFILE, README, ROOT, SETTINGS, clean_env, readme_production_env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_is_clean_with_the_documented_production_env(tmp_path):
    documented = readme_production_env()
    # The block configures every service the production section names.
    for name in (
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "GUEST_SITE_URL",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "GUEST_PAGES_BUCKET",
        "CLOUDFRONT_DISTRIBUTION_ID",
        "EMAIL_URL",
    ):
        assert name in documented, name
    assert documented["DEBUG"] == "0"
    env = clean_env(tmp_path, documented)
    result = run(env, sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # And the settings really took the production values (not the embedded defaults).
    assert settings_in(env) == [
        "False",
        "django.db.backends.postgresql",
        "False",
        "guests.storage.GuestPageStorage",
        "django.core.mail.backends.smtp.EmailBackend",
        "True",
    ]


def settings_in(env: dict[str, str]) -> list[str]:
    """The settings that tell the embedded defaults from production, as a process sees them."""
    probe = run(
        env,
        sys.executable,
        "-c",
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'jada.settings');"
        "django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
        " s.STORAGES['guest_pages']['BACKEND'], s.EMAIL_BACKEND, s.SESSION_COOKIE_SECURE)",
    )
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.split()


def test_with_nothing_set_it_runs_on_the_embedded_defaults(tmp_path):
    # `make run` on a fresh machine: DEBUG=1 from the Makefile, no secret and no service needed.
    env = clean_env(tmp_path, {"DEBUG": "1"})
    del env["SECRET_KEY"]
    assert settings_in(env) == [
        "True",
        "django.db.backends.sqlite3",
        "True",
        "django.core.files.storage.FileSystemStorage",
        "django.core.mail.backends.console.EmailBackend",
        "False",
    ]


def test_the_procfile_starts_web_worker_and_beat():
    processes = dict(line.split(":", 1) for line in PROCFILE.splitlines() if ":" in line)
    assert processes["web"].split()[:2] == ["gunicorn", "jada.wsgi"]
    # Magic links carry their token in the query, and the next page's Referer repeats it: the
    # access log keeps the path only (no %(r)s request line, %(q)s query or %(f)s referrer).
    web = shlex.split(processes["web"])
    log_format = web[web.index("--access-logformat") + 1]
    assert "%(U)s" in log_format
    assert not {"%(r)s", "%(q)s", "%(f)s", "%(u)s"} & set(re.findall(r"%\(\w+\)s", log_format))
    assert shlex.split(processes["worker"])[:4] == ["celery", "-A", "jada", "worker"]
    assert shlex.split(processes["beat"])[:4] == ["celery", "-A", "jada", "beat"]


def test_gunicorn_loads_the_app_with_the_production_env(tmp_path):
    env = clean_env(tmp_path, readme_production_env())
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = run(env, str(gunicorn), "--check-config", "jada.wsgi")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_celery_app_loads_with_the_production_env(tmp_path):
    env = clean_env(tmp_path, readme_production_env())
    result = run(
        env,
        sys.executable,
        "-c",
        "from jada.celery import app; app.loader.import_default_modules();"
        "print(app.conf.broker_url, sorted(app.conf.beat_schedule))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("redis://redis.internal:6379/0")
    assert "resume-pipelines" in result.stdout


def test_the_readme_documents_every_environment_variable():
    names = set(re.findall(r'read\(\s*"([A-Z0-9_]+)"', SETTINGS))
    assert len(names) > 20
    # And those the Procfile and the application read directly.
    names |= set(re.findall(r"\$\{([A-Z_]+)", PROCFILE))
    for app in ("bookings", "crew", "guests", "jada"):
        for path in (ROOT / app).glob("**/*.py"):
            names |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', path.read_text()))
    assert {"PORT", "WEB_CONCURRENCY", "WORKER_CONCURRENCY", "DEMO_PASSWORD"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == []


def test_the_readme_quick_start_is_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, re.MULTILINE)
    assert commands == ["make run", "make test"]
