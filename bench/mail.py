"""An email backend that takes as long as a remote SMTP/SES call and then forgets the message."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class LatencyBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            message.message()  # render it, as a real backend would
            time.sleep(settings.BENCH_EMAIL_LATENCY)
        return len(email_messages)
