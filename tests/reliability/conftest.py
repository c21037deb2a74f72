"""Real failures for the reliability tests: a Redis server of the test's own that it stops, hangs and starts
again; Celery workers in subprocesses that it kills; a real SMTP server that can hang mid-message.

Nothing here mocks our code: the app is pointed at these servers through its settings.
"""

import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from crm_project import outbox
from crm_project.cache import _Breaker
from crm_project.celery import app as celery_app
from tests.conftest import IN_CI

REDIS_PORTS = range(6391, 6400)  # the shared Redis on 6379 is never touched


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A redis-server process on a free port, in a temporary directory, without persistence."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = next((port for port in REDIS_PORTS if _port_free(port)), None)
        if self.port is None:
            raise RuntimeError(f"No free port for a test Redis in {REDIS_PORTS}")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        command = [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory), "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=10, what=f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.RedisError:
            return False

    def stop(self) -> None:
        """Shut the server down (the port is closed: connections are refused)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def hang(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted by the kernel, and nothing ever answers."""
        self.process.send_signal(signal.SIGSTOP)

    def unhang(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        message = "needs the redis-server program (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(f"CI must run this test but it {message}", pytrace=False)
        pytest.skip(message)
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _point_celery_at(url: str | None, *, eager: bool) -> None:
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = eager
    celery_app._pool = None  # connections are pooled per broker: drop the old one's
    celery_app.amqp._producer_pool = None
    outbox.broker_retry_now()


@pytest.fixture
def app_on_redis(redis_server, settings):
    """The app's cache and Celery broker on the test's own Redis, as a production deployment has them."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CACHES = {
        "default": {
            "BACKEND": "crm_project.cache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "crm",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "down_retry_seconds": 1},
        }
    }
    _point_celery_at(redis_server.url, eager=False)
    _Breaker._down_until.clear()  # the cache's memory of a Redis down in an earlier test on the same port
    yield redis_server
    _point_celery_at(saved["broker_url"], eager=saved["task_always_eager"])


def queued_messages(server: RedisServer, queue: str = "celery") -> int:
    return server.client().llen(queue)


# --- SMTP ------------------------------------------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        server: SmtpServer = self.server.owner
        self.reply("220 test-smtp ready")
        recipients = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 test-smtp")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address in server.refused_addresses:
                    self.reply("550 5.1.1 No such user")
                    continue
                recipients.append(address)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                if not server.accept_next():
                    return  # hung up without an answer: the message was never accepted
                server.record(recipients, b"".join(data))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # RSET, NOOP ...
                self.reply("250 OK")


class SmtpServer:
    """A real SMTP server that keeps every message it accepted (a 250 after the data).

    `hang_after(n)`: the reply to the next message's data waits once n messages are accepted, as a mail
    server that stops answering; `hung` is set then. `stop_hanging()` lets it drop that connection."""

    def __init__(self):
        self.accepted: list[tuple[list[str], bytes]] = []
        self.refused_addresses: set[str] = set()  # answered "550 No such user"
        self.hung = threading.Event()
        self._release = threading.Event()
        self._hang_after: int | None = None
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
        self._server.daemon_threads = True
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def hang_after(self, count: int) -> None:
        self._hang_after = count

    def stop_hanging(self) -> None:
        self._hang_after = None
        self._release.set()

    def accept_next(self) -> bool:
        with self._lock:
            hang = self._hang_after is not None and len(self.accepted) >= self._hang_after
        if hang:
            self.hung.set()
            self._release.wait(timeout=120)
            return False
        return True

    def record(self, recipients: list[str], data: bytes) -> None:
        with self._lock:
            self.accepted.append((recipients, data))

    def recipients(self) -> list[str]:
        with self._lock:
            return [address for recipients, _ in self.accepted for address in recipients]

    def close(self) -> None:
        self.stop_hanging()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    yield server
    server.close()


# --- Celery workers in subprocesses ----------------------------------------------------------------------------


class WorkerProcess:
    """`celery -A crm_project worker` (prefork, one child) on the test database, the test's Redis and SMTP."""

    def __init__(self, env: dict, log: Path, name: str):
        command = [sys.executable, "-m", "celery", "-A", "crm_project", "worker", "--pool=prefork"]
        command += ["--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        command += ["--without-heartbeat", "-n", f"{name}@%h"]
        self.log = log
        with open(log, "ab") as out:
            # A session of its own: killing its process group kills the worker and its pool child.
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill_child(self) -> int:
        """SIGKILL the pool process running the task (the main process stays, as after the OOM killer)."""
        child = wait_for(self.children, timeout=10, what="the worker's pool process")[0]
        os.kill(child, signal.SIGKILL)
        return child

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and child (the machine went away)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """start_worker(redis_url, **environment) -> a WorkerProcess on the test database; all stopped at the end."""
    workers: list[WorkerProcess] = []
    database = connection.settings_dict

    def start(redis_url: str, **environment) -> WorkerProcess:
        credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
            "SECRET_KEY": "tests-only-not-secret",
            "STATIC_MANIFEST": "false",
            # The test database (pytest-django's test_<name>), which the test's transactional_db commits to.
            "DATABASE_URL": f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": redis_url,
            **{key: str(value) for key, value in environment.items()},
        }
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers) + 1}.log", f"worker{len(workers) + 1}")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
