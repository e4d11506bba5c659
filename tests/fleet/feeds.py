"""A real HTTP server on 127.0.0.1 serving iCalendar files, for the calendar sync's tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    delay: float = 0.0  # seconds before answering (a server that hangs)


@dataclass
class FeedServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve(self, path: str, body: bytes | str = b"", **values) -> None:
        if isinstance(body, str):
            body = body.encode()
        self.routes[path] = Route(body=body, **values)


def _handler(server: FeedServer, stop: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append((self.path, dict(self.headers)))
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.delay:
                stop.wait(route.delay)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            modified = route.last_modified
            if modified and self.headers.get("If-Modified-Since") == modified:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
            if modified:
                self.send_header("Last-Modified", modified)
            self.end_headers()
            try:
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading (the size cap): that is the point

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    stop = threading.Event()
    state = FeedServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, stop))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def ics(*events: tuple[str, datetime, datetime, str]) -> str:
    """A VCALENDAR of (uid, start, end, summary) events, as marketplaces export them."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Marketplace//Test//EN"]
    for uid, start, end, summary in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20300101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
