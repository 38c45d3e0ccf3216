"""The machinery every provider emulator shares: a real HTTP server on loopback.

A provider's emulator (``providers/<name>/emulator.py``) subclasses
``BaseEmulator`` and implements ``route`` from its reading of the API spec.
This module adds what tests, the demo and benchmarks need around it: limits
answered with 429, injected faults (500s, slow answers past the client's
timeout, malformed JSON, 429 with Retry-After), latency, a hook on every
create (``on_create``), and a side path ``/_emulator/…`` exposing records and
counters:

  GET  /_emulator/stats               counters (requests, creates per resource,
                                      429s sent, max requests in any 1 s window)
  GET  /_emulator/records/<resource>  every stored record
  POST /_emulator/records/<resource>  seed records (JSON list); answers them with ids
  POST /_emulator/faults              queue faults: {"kind": "500"|"timeout"|"bad_json"|
                                      "429", "count": N, "retry_after": S}
  POST /_emulator/reset               back to how it was started: no records,
                                      counters, faults or hook; its options as given
"""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

SIDE = "/_emulator"
# One-off faults (add_fault): the next requests answer so. "timeout" answers
# after slow_seconds; "drop" closes the connection without an answer; "html" is
# a proxy's (or Cloudflare's) page where JSON was due; "302" a redirect to a
# login page; "403_html" the block page an edge firewall answers a client that
# ignored its 429s with.
# "pass": answered as usual (to aim a later fault at a later request); "404": the
# record is gone (deleted between a list and the read of one of its records)
FAULT_KINDS = (
    "500",
    "timeout",
    "bad_json",
    "429",
    "401",
    "302",
    "html",
    "drop",
    "403_html",
    "pass",
    "404",
)
# Standing conditions (``down``): every request until cleared.
DOWN_KINDS = ("hang", "drop")
DROP = 0  # Reply.status that closes the connection without answering
# How often the serving thread looks for a stop request: a stop takes at most
# this long (socketserver's default, 0.5 s, made every test's teardown wait).
STOP_POLL_SECONDS = 0.02


def retry_after_header(value: float | str) -> str:
    """A Retry-After header's value: seconds, or a text given as it is (an HTTP date)."""
    return value if isinstance(value, str) else str(int(value))


def is_number(value: Any) -> bool:
    """A JSON number (APIs with strict schemas refuse "10.5" where 10.5 is due)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or None
    raw: bytes = b""
    query_all: dict[str, list[str]] = field(default_factory=dict)  # repeated names (ids[]=…)

    @property
    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body."""
        return {k: v[-1] for k, v in parse_qs(self.raw.decode("utf-8", "replace")).items()}


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One API request the emulator answered from its own rules (not a limit, a fault
    or an outage a test set up), as the tests hold it against the official schemas."""

    method: str
    path: str
    query: dict[str, list[str]]
    user_agent: str
    body: Any  # the request's JSON body (a copy), or None
    status: int
    answer: Any  # the reply's JSON body, or None


class BaseEmulator:
    name = "emulator"
    # credential name -> default accepted value; each becomes a --flag of `crm-cli emulator`
    CREDENTIALS: ClassVar[dict[str, str]] = {}
    # emulator-specific option -> type; each becomes a --flag of `crm-cli emulator`
    OPTIONS: ClassVar[dict[str, type]] = {}

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        rate: float | None = None,
        daily: int | None = None,
        fail_rate: float = 0.0,
        latency_ms: float = 0.0,
        slow_seconds: float = 35.0,
        credentials: dict[str, str] | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> None:
        """``options``: a provider emulator's own settings (its ``OPTIONS``), kept like
        the common ones: ``reset`` puts every one back as given here."""
        self.host, self.port = host, port
        self._seed = seed
        self._configured: dict[str, Any] = {
            "rate": rate,
            "daily": daily,
            "fail_rate": fail_rate,
            "latency_ms": latency_ms,
            "slow_seconds": slow_seconds,
            "down": None,  # DOWN_KINDS: the CRM hangs, or drops every connection
            "credentials": {**self.CREDENTIALS, **(credentials or {})},
            **options,
        }
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._generation = 0
        self.reset()

    # -- state ------------------------------------------------------------------

    def reset(self) -> None:
        """Back to how it was started: no records, counters, faults or create hook,
        and the options it was given (a test may have changed ``rate`` or ``down``).
        One emulator can then serve many tests, each from a clean start."""
        with self.lock:
            # Requests still asleep from before (a "timeout" fault, a hang) see the
            # generation change and leave without touching the new state.
            self._generation += 1
            for name, value in self._configured.items():
                setattr(self, name, deepcopy(value))
            self.random = random.Random(self._seed)
            self.records: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
            self.next_id: Counter[str] = Counter()
            self.counters: Counter[str] = Counter()
            self.faults: deque[dict[str, Any]] = deque()
            self._window: deque[float] = deque()
            self._recent: deque[float] = deque()  # the last 2 s, for burst-window headers
            self.max_per_second = 0
            # the last API requests, (method, path, JSON body): what a client really sent
            self.journal: deque[tuple[str, str, Any]] = deque(maxlen=100)
            # every request answered by ``route``, with its answer (Exchange)
            self.exchanges: list[Exchange] = []
            self._day, self._day_count = time.gmtime()[:3], 0
            # Called with (resource, reply) once a create is stored, before the
            # client has its answer: the window in which a client can die.
            self.on_create: Callable[[str, Reply], None] | None = None

    def new_id(self, resource: str) -> int:
        with self.lock:
            self.next_id[resource] += 1
            return self.next_id[resource]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.counters["requests"],
                "rate_limited": self.counters["status_429"],
                "max_per_second": self.max_per_second,
                "creates": {
                    k.split(":", 1)[1]: v
                    for k, v in self.counters.items()
                    if k.startswith("create:")
                },
                "by_status": {
                    k.split("_", 1)[1]: v
                    for k, v in self.counters.items()
                    if k.startswith("status_")
                },
                "records": {resource: len(items) for resource, items in self.records.items()},
            }

    def add_fault(self, kind: str, count: int = 1, retry_after: float | str | None = None) -> None:
        """Answer the next ``count`` requests with ``kind`` (FAULT_KINDS); a 429's
        ``retry_after`` is seconds, or a text sent as it is (an HTTP date)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        with self.lock:
            for _ in range(count):
                self.faults.append({"kind": kind, "retry_after": retry_after})

    # -- what a provider's emulator implements ------------------------------------

    def authorized(self, request: Request) -> bool:
        return True

    def unauthorized(self) -> Reply:
        return Reply(401, {"error": "unauthorized"})

    def too_many(self, retry_after: float | str | None = None) -> Reply:
        headers = (
            {"Retry-After": retry_after_header(retry_after)} if retry_after is not None else {}
        )
        return Reply(429, {"error": "too many requests"}, headers)

    def server_error(self) -> Reply:
        return Reply(500, {"error": "internal error"})

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def seed(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store a record as if created through the API (no request counted)."""
        raise NotImplementedError

    def edit(self, resource: str, record_id: Any, **changes: Any) -> dict[str, Any]:
        """A person's edit in the CRM's own screen (no request counted): the record
        takes ``changes`` and, as the service does, a new modification time."""
        with self.lock:
            record = self.records[resource][str(record_id)]
            record.update(changes)
            self.touch(resource, record)
            return record

    def backdate(self, resource: str, record_id: Any, when: dt.datetime) -> None:
        """Say ``record_id`` last changed at ``when`` (an aware instant): a catalogue
        older than the test or benchmark that seeds it."""
        with self.lock:
            self.touch(resource, self.records[resource][str(record_id)], when)

    def touch(self, resource: str, record: dict[str, Any], when: dt.datetime | None = None) -> None:
        """Mark ``record`` modified now (or at ``when``), where the provider keeps that."""

    def crud(
        self, request: Request, resource: str, record_id: str | None, update: str = "PUT"
    ) -> Reply | None:
        """REST dispatch to the subclass's _list/_create/_one/_update/_delete;
        None when the method fits neither the collection nor the record."""
        if record_id is None:
            calls = {
                "GET": lambda: self._list(resource, request),
                "POST": lambda: self._created(resource, request.body),
            }
        else:
            calls = {
                "GET": lambda: self._one(resource, record_id),
                update: lambda: self._update(resource, record_id, request.body),
                "DELETE": lambda: self._delete(resource, record_id),
            }
        call = calls.get(request.method)
        return call() if call else None

    def _created(self, resource: str, body: Any) -> Reply:
        reply = self._create(resource, body)
        hook = self.on_create
        if hook is not None and 200 <= reply.status < 300:
            hook(resource, reply)
        return reply

    # -- the request path ------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith(SIDE):
            return self._side(request)
        with self.lock:
            generation = self._generation
            self.counters["requests"] += 1
            body = json.loads(json.dumps(request.body))  # a copy: routes may change theirs
            self.journal.append((request.method, request.path, body))
            in_window = self._arrive(time.monotonic())
            over_rate = bool(self.rate) and in_window > self.rate
            over_day = bool(self.daily) and self._count_day() > self.daily
            fault = self.faults.popleft() if self.faults else None
            random_failure = self.fail_rate and self.random.random() < self.fail_rate
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)
        if self.down == "hang":
            time.sleep(self.slow_seconds)
            return self._count(self.server_error(), generation)
        if self.down == "drop":
            return self._count(Reply(DROP))
        if over_rate or over_day:
            return self._count(self.too_many())
        if not self.authorized(request):
            return self._count(self.unauthorized())
        if fault:
            reply = self._fault(fault)
            if reply is not None:
                return self._count(reply)
            if generation != self._generation:  # reset while this one slept
                return Reply(DROP)
        if random_failure:
            return self._count(self.server_error())
        reply = self.route(request)
        self._record(request, body, reply, generation)
        return self._count(reply)

    def _record(self, request: Request, body: Any, reply: Reply, generation: int) -> None:
        answer = reply.body if not isinstance(reply.body, (bytes, bytearray)) else None
        exchange = Exchange(
            request.method,
            request.path,
            {k: list(v) for k, v in request.query_all.items()},
            request.headers.get("user-agent", ""),
            body,
            reply.status,
            json.loads(json.dumps(answer)) if answer is not None else None,
        )
        with self.lock:
            if generation == self._generation:
                self.exchanges.append(exchange)

    def _arrive(self, now: float) -> int:
        self._recent.append(now)
        while self._recent and self._recent[0] <= now - 2.0:
            self._recent.popleft()
        self._window.append(now)
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        self.max_per_second = max(self.max_per_second, len(self._window))
        return len(self._window)

    def _count_day(self) -> int:
        today = time.gmtime()[:3]
        if today != self._day:
            self._day, self._day_count = today, 0
        self._day_count += 1
        return self._day_count

    def _fault(self, fault: dict[str, Any]) -> Reply | None:
        kind = fault["kind"]
        if kind == "pass":
            return None
        if kind == "404":
            return Reply(404, {"error": "not found"})
        if kind == "500":
            return self.server_error()
        if kind == "429":
            return self.too_many(fault.get("retry_after"))
        if kind == "bad_json":
            return Reply(200, b'{"code": 200, "status": "success", "data": {"id": ')
        if kind == "401":
            return self.unauthorized()
        if kind == "302":
            return Reply(302, b"", {"Location": "https://login.example.invalid/"})
        if kind == "html":
            page = b"<html><body><h1>Attention Required!</h1></body></html>"
            return Reply(200, page, {"Content-Type": "text/html"})
        if kind == "drop":
            return Reply(DROP)
        if kind == "403_html":  # an edge firewall's block page (Cloudflare), not the API's 403
            page = b"<!DOCTYPE html><html><title>Attention Required! | Cloudflare</title></html>"
            return Reply(403, page, {"Content-Type": "text/html; charset=UTF-8"})
        time.sleep(self.slow_seconds)  # "timeout": answer, but after the client gave up
        return None

    def _count(self, reply: Reply, generation: int | None = None) -> Reply:
        with self.lock:
            if generation is None or generation == self._generation:
                self.counters[f"status_{reply.status}"] += 1
        return self.finish(reply)

    def finish(self, reply: Reply) -> Reply:
        """Last touch on every API answer (rate-limit headers, for APIs that send them)."""
        return reply

    def burst_count(self) -> int:
        """Requests seen in the last two seconds."""
        with self.lock:
            return len(self._recent)

    def day_count(self) -> int:
        with self.lock:
            return self._day_count

    def count_create(self, resource: str) -> None:
        with self.lock:
            self.counters[f"create:{resource}"] += 1

    def _side(self, request: Request) -> Reply:
        parts = request.path[len(SIDE) :].strip("/").split("/")
        if request.method == "GET" and parts == ["stats"]:
            return Reply(200, self.stats())
        if parts[0] == "records" and len(parts) == 2:
            if request.method == "GET":
                with self.lock:
                    return Reply(200, list(self.records.get(parts[1], {}).values()))
            if request.method == "POST" and isinstance(request.body, list):
                return Reply(200, [self.seed(parts[1], dict(r)) for r in request.body])
        if request.method == "POST" and parts == ["faults"] and isinstance(request.body, dict):
            try:
                self.add_fault(
                    str(request.body.get("kind")),
                    int(request.body.get("count", 1)),
                    request.body.get("retry_after"),
                )
            except ValueError as exc:
                return Reply(400, {"error": str(exc)})
            return Reply(200, {"queued": len(self.faults)})
        if request.method == "POST" and parts == ["reset"]:
            self.reset()
            return Reply(200, {"reset": True})
        return Reply(404, {"error": "unknown emulator path"})

    # -- serving ------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> BaseEmulator:
        """Serve from a background thread (tests, the demo); ``stop`` ends it at once."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name=self.name,
            daemon=True,
        ).start()
        return self

    def serve_forever(self) -> None:
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._server.serve_forever(poll_interval=STOP_POLL_SECONDS)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BaseEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(emulator: BaseEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs

        def setup(self) -> None:
            super().setup()
            # headers and body leave in two writes: without this, Nagle's
            # algorithm meets the client's delayed ACK and each answer waits 40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            query = parse_qs(split.query)
            request = Request(
                method=self.command,
                path=split.path,
                query={k: v[-1] for k, v in query.items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw=raw,
                query_all=query,
            )
            try:
                reply = emulator.handle(request)
            except Exception as exc:  # an emulator bug must still answer, as a 500
                reply = Reply(500, {"error": f"emulator failure: {type(exc).__name__}: {exc}"})
            data = (
                reply.body
                if isinstance(reply.body, bytes)
                else json.dumps(reply.body, ensure_ascii=False, default=str).encode("utf-8")
            )
            if reply.status == DROP:
                self.close_connection = True  # no answer at all: the peer sees a reset
                return
            headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            try:
                self.send_response(reply.status)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read counters
            return

    return Handler
