"""A loopback-only HTTP server for download tests: serves one folder, and can misbehave.

``cut_half`` makes it announce the whole file but send only its first half and close the
connection, as a dropped download does; ``fail_first`` answers the first that many requests with
HTTP 503, as a flaky server does.
"""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ServerBehaviour:
    cut_half: bool = False
    fail_first: int = 0
    requests: list[str] = field(default_factory=list)


def _handler(folder: Path, behaviour: ServerBehaviour) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

        def do_GET(self) -> None:
            behaviour.requests.append(self.path)
            if len(behaviour.requests) <= behaviour.fail_first:
                self.send_error(503, "try again later")
                return
            path = folder / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if behaviour.cut_half else data)
            self.close_connection = True

    return Handler


@contextmanager
def serve_folder(folder: Path, behaviour: ServerBehaviour | None = None) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1; yields the base URL (no trailing slash)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler(folder, behaviour or ServerBehaviour())
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
