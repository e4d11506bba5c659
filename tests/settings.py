"""Settings of the test run: the application's own, read as `make run` reads them (DEBUG on).

The suite exercises the embedded defaults (plain HTTP, the development key); what production
does differently is tested in processes of their own (tests/jada/test_settings.py,
tests/test_deploy.py), each with the environment it needs.
"""

from __future__ import annotations

import os

# Before the import: settings read the environment once. Child processes (workers) inherit it.
os.environ.setdefault("DEBUG", "1")

from jada.settings import *  # noqa: F403
