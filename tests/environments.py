"""The environments processes of the tests start in: the README's production one, and this
machine's without any setting (so a setting the test does not give takes its default)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PROCFILE = (ROOT / "Procfile").read_text()
SETTINGS = (ROOT / "jada" / "settings.py").read_text()


def readme_production_env() -> dict[str, str]:
    block = re.search(r"<!-- production-env -->\s*```sh\n(.*?)```", README, re.DOTALL)
    assert block, "README.md lost its production-env block"
    env = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def clean_env(tmp_path: Path, documented: dict[str, str]) -> dict[str, str]:
    """This machine's environment minus every setting, plus the documented production values."""
    names = set(re.findall(r'read\(\s*"([A-Z0-9_]+)"', SETTINGS))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in names
        and not k.endswith("_FILE")
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(documented)
    # The README shows a placeholder; a real deployment sets a long random key.
    env["SECRET_KEY"] = secrets.token_urlsafe(64)
    env["JADA_VAR_DIR"] = str(tmp_path)
    return env
