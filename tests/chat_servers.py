"""Real local servers for the Slack and Teams tests.

`serve(app)` runs a FastAPI app under uvicorn in a thread on a free loopback port.
`Recorder` is a small HTTP server standing in for the platform's side: Slack's Web API
(chat.postMessage, ...) or the Bot Framework connector at the activity's serviceUrl. It
records every request and answers through a `respond(call)` function.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import parse_qs, unquote

import uvicorn


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    json: dict = field(default_factory=dict)

    @property
    def unquoted_path(self) -> str:
        return unquote(self.path)


class Recorder:
    def __init__(self, respond: Callable[[Call], tuple[int, dict]]):
        self.respond = respond
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                call = Call(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    raw,
                    _decode(raw, self.headers.get("content-type", "")),
                )
                with recorder._lock:
                    recorder.calls.append(call)
                status, payload = recorder.respond(call)
                out = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Recorder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def matching(self, predicate: Callable[[Call], bool]) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if predicate(c)]

    def wait_for(self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 30) -> list[Call]:
        """Calls matching `predicate`, once there are at least `count` of them (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} matching call(s) within {timeout}s; recorded paths: {[c.path for c in self.calls]}"
        )


def _decode(raw: bytes, content_type: str) -> dict:
    try:
        if "json" in content_type:
            return json.loads(raw or b"{}")
        if "form" in content_type:
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    except ValueError:
        pass
    return {}


@contextmanager
def serve(app) -> Iterator[str]:
    """Run `app` under a real uvicorn server on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Scripted:
    """An OpenAI-compatible chat-completions server on localhost that answers with whatever `content`
    holds (or a raw body, or after a delay); asked to stream, it sends `content` in pieces of
    `piece_chars` characters, `piece_delay` seconds apart, as the server-sent chunks real servers send."""

    def __init__(self):
        self.content: str = ""
        self.raw: bytes | None = None
        self.delay = 0.0
        self.piece_chars, self.piece_delay = 8, 0.0
        self.status = 200
        self.requests: list[dict] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                script.requests.append(body)
                time.sleep(script.delay)
                try:
                    if body.get("stream") and script.raw is None and script.status == 200:
                        self._stream(body)
                    else:
                        self._whole(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _whole(self, body: dict) -> None:
                message = {"role": "assistant", "content": script.content}
                payload = (
                    script.raw
                    or json.dumps(
                        _completion(
                            body, "chat.completion", [{"index": 0, "message": message, "finish_reason": "stop"}]
                        )
                    ).encode()
                )
                self.send_response(script.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                text, n = script.content, script.piece_chars
                for i in range(0, len(text), n):
                    delta = {"index": 0, "delta": {"content": text[i : i + n]}, "finish_reason": None}
                    self.wfile.write(
                        f"data: {json.dumps(_completion(body, 'chat.completion.chunk', [delta]))}\n\n".encode()
                    )
                    self.wfile.flush()
                    time.sleep(script.piece_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def say(self, *sentences: tuple[str, list[int]]) -> None:
        self.raw, self.delay, self.status = None, 0.0, 200
        self.content = json.dumps({"zinnen": [{"zin": s, "passages": p} for s, p in sentences]})


def _completion(body: dict, kind: str, choices: list[dict]) -> dict:
    return {"id": "x", "object": kind, "created": 0, "model": body.get("model", "m"), "choices": choices}
