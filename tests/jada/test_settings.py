"""Settings from the environment: production is clean, missing or malformed values refuse to start.

Each case runs `manage.py` in a fresh process, because settings are read once at import.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Only what a process needs to run: the parent's settings variables (and anything tests set
# in os.environ, such as DJANGO_ALLOW_ASYNC_UNSAFE for browser tests) must not leak in.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "ops.sailjada.com",
            "SITE_URL": "https://ops.sailjada.com",
            "GUEST_SITE_URL": "https://queenofsandiego.com",
            "JADA_VAR_DIR": str(tmp_path),
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_the_readme_placeholder_key_refuses_to_start(tmp_path):
    env = production_env(tmp_path)
    env["SECRET_KEY"] = "change-me-to-50-random-characters-or-use-SECRET_KEY_FILE"
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY: replace the placeholder" in result.stderr


def test_a_secret_key_may_come_from_a_file(tmp_path):
    env = production_env(tmp_path)
    key_file = tmp_path / "secret_key"
    key_file.write_text(env.pop("SECRET_KEY") + "\n")
    env["SECRET_KEY_FILE"] = str(key_file)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_webhook_without_its_secret_refuses_to_start(tmp_path):
    env = production_env(tmp_path)
    env["SUMMARY_WEBHOOK_URL"] = "https://hooks.example.com/jada"
    env.pop("SUMMARY_WEBHOOK_SECRET", None)
    result = manage(env, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured: SUMMARY_WEBHOOK_SECRET" in last_line, last_line


@pytest.mark.parametrize(
    ("url", "secret", "named"),
    [
        # A short secret can be guessed offline from one captured delivery.
        ("https://hooks.example.com/jada", "Sh0rt-but-s3cret", "SUMMARY_WEBHOOK_SECRET"),
        # Plain http would carry the signed summary (money included) readable on the way.
        ("http://hooks.example.com/jada?key=K3yInUrl", "x" * 32, "SUMMARY_WEBHOOK_URL"),
    ],
)
def test_a_weak_webhook_refuses_to_start_without_echoing_it(tmp_path, url, secret, named):
    env = production_env(tmp_path)
    env.update(SUMMARY_WEBHOOK_URL=url, SUMMARY_WEBHOOK_SECRET=secret)
    result = manage(env, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"ImproperlyConfigured: {named}" in last_line, last_line
    assert "Sh0rt" not in result.stderr and "K3yInUrl" not in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1:9000", "localhost:9000", "[::1]:9000"])
def test_a_long_secret_and_https_or_a_loopback_hook_start(tmp_path, host):
    env = production_env(tmp_path)
    env.update(SUMMARY_WEBHOOK_URL=f"http://{host}/hook", SUMMARY_WEBHOOK_SECRET="k" * 32)
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    env.update(SUMMARY_WEBHOOK_URL="https://hooks.example.com/jada")
    assert manage(env, "check").returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "nonsense"),
        ("TIME_ZONE", "Mars/Base"),
        ("SITE_URL", "ftp://x"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("EMAIL_URL", "smtp-server"),
        ("EMAIL_URL", "foo://x"),
        ("DATABASE_URL", "foo://x"),
        ("LOG_LEVEL", "LOUD"),
        ("SITE_URL", "http://"),
        ("GUEST_SITE_URL", "https:///g"),
    ],
)
def test_a_malformed_value_names_its_variable(tmp_path, name, value):
    env = production_env(tmp_path)
    env[name] = value
    result = manage(env, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: " + name), last_line


def probe(env: dict[str, str], expression: str) -> str:
    """What a fresh process's settings say, or the last line of its refusal."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'jada.settings');"
        f"django.setup(); from django.conf import settings as s; print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode:
        return result.stderr.strip().splitlines()[-1]
    return result.stdout.strip()


def test_debug_is_off_unless_asked_for(tmp_path):
    env = production_env(tmp_path)
    del env["DEBUG"]
    assert probe(env, "s.DEBUG, repr(s.DEMO_PASSWORD)") == "False ''"
    del env["SECRET_KEY"]
    assert probe(env, "s.DEBUG") == (
        "django.core.exceptions.ImproperlyConfigured: "
        "SECRET_KEY: required when DEBUG is off (or SECRET_KEY_FILE)"
    )
    env["DEBUG"] = "1"
    assert probe(env, "s.DEBUG, s.DEMO_PASSWORD") == "True jada-demo"


def test_make_run_turns_debug_on_for_the_demo():
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert len(commands) == 3 and all(c.startswith("DEBUG=1 ") for c in commands), commands


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgress://jada:S3cr3t-pw@db.internal:5432/jada"),
        ("DATABASE_URL", "postgres://jada:S3cr3t-pw@db.internal:port/jada"),
        ("EMAIL_URL", "smtp+tsl://AKIAEXAMPLE:S3cr3t-pw@email-smtp.example.com:587"),
        ("EMAIL_URL", "S3cr3t-pw"),
        ("SUMMARY_WEBHOOK_URL", "ftp://hook:S3cr3t-pw@hooks.example.com/jada"),
        ("SUMMARY_WEBHOOK_URL", "https://hook:S3cr3t-pw@[hooks.example.com/jada"),
        ("CELERY_BROKER_URL", "redis:/:S3cr3t-pw@redis.internal:6379/0"),
        ("EMAIL_PORT", "S3cr3t-pw"),
        ("SECURE_HSTS_SECONDS", "S3cr3t-pw"),
        ("DEBUG", "S3cr3t-pw"),
        ("TIME_ZONE", "S3cr3t-pw"),
    ],
)
def test_a_malformed_value_is_never_echoed(tmp_path, name, value):
    env = production_env(tmp_path)
    env[name] = value
    if name == "EMAIL_PORT":
        env["EMAIL_HOST"] = "smtp.example.com"
    result = manage(env, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: " + name), last_line
    assert "S3cr3t" not in result.stdout + result.stderr


def test_email_comes_from_its_url_or_its_parts(tmp_path):
    env = production_env(tmp_path)
    shown = "s.EMAIL_BACKEND.split('.')[-2], s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS"
    assert probe(env, shown) == "console localhost 25 False"
    env["EMAIL_URL"] = "smtp+tls://user:pw@smtp.example.com:587"
    assert probe(env, shown + ", s.EMAIL_USE_SSL") == "smtp smtp.example.com 587 True False"
    env["EMAIL_URL"] = f"filemail:///{tmp_path}/outbox"
    assert probe(env, "s.EMAIL_BACKEND, s.EMAIL_FILE_PATH") == (
        f"django.core.mail.backends.filebased.EmailBackend {tmp_path}/outbox"
    )
    del env["EMAIL_URL"]
    env.update(EMAIL_HOST="mail.internal", EMAIL_PORT="2525", EMAIL_USE_SSL="1")
    assert probe(env, shown + ", s.EMAIL_USE_SSL") == "smtp mail.internal 2525 False True"


def app_sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for app in ("bookings", "crew", "guests", "jada")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def test_each_setting_is_read_once_with_one_default():
    sources = app_sources()
    assert len(sources) > 40
    # One reader of the environment: jada/env.py.
    reads = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[|in os\.environ")
    assert [p for p, src in sources.items() if reads.search(src)] == ["jada/env.py"]
    # Code reads settings.X: no second default beside the one in settings.py.
    second = re.compile(r"(getattr|hasattr)\(\s*settings\b")
    assert [p for p, src in sources.items() if second.search(src)] == []
    migrations = [
        p
        for app in ("bookings", "crew", "guests", "jada")
        for p in (ROOT / app).glob("migrations/*.py")
    ]
    assert len(migrations) > 10
    assert [str(p.relative_to(ROOT)) for p in migrations if second.search(p.read_text())] == []
    assert [p for p, src in sources.items() if "globals()" in src] == []
    names = re.findall(r'read\(\s*"([A-Z0-9_]+)"', sources["jada/settings.py"])
    assert len(names) > 30
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
