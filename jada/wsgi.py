"""WSGI entry point (gunicorn jada.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jada.settings")
application = get_wsgi_application()
