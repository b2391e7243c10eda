"""Real server processes for tests that crash them: gunicorn serving Kessai, started in a
process group of its own so a test can kill -9 the master and its workers at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback URL that accepts connections (the kernel does) and never answers: whatever
    was sent may have arrived, and no answer ever comes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def wait_until(condition, timeout: float = 30.0, every: float = 0.05, what: str = "") -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition()`` until it is true (a condition, never a fixed sleep)."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what or condition}")


class Gunicorn:
    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KESSAI_PUBLIC_URL": self.url, "KESSAI_DEMO": "0",
                    "KESSAI_SANDBOX_LATENCY_MS": "0", **env}
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gunicorn:
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--threads", "4", "--chdir", str(ROOT)],
            env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, what=f"gunicorn on {self.url}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_hard(self) -> None:
        """kill -9 the master and every worker: no clean-up code runs anywhere."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@contextmanager
def gunicorn(env: dict[str, str], **options: int) -> Iterator[Gunicorn]:
    server = Gunicorn(env, **options).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def localstripe() -> Iterator[str]:
    """localstripe (a stateful Stripe emulator from PyPI) on a free port: its base URL.

    It binds every interface (IPv4 and IPv6) on the port it is given, and a port free on
    127.0.0.1 may be taken on another: when the process exits at start-up it is started again
    on another port, and a final failure says what it printed."""
    for _attempt in range(3):
        port = free_port()
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the process
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "localstripe", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT)

        def up_or_gone(port: int = port, process: subprocess.Popen[bytes] = process) -> bool:
            if process.poll() is not None:
                return True
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_until(up_or_gone, timeout=60, what="localstripe to listen or exit")
        if process.poll() is None:
            break
        log.seek(0)
        printed = log.read().decode(errors="replace")[-2000:]
        log.close()
    else:
        raise AssertionError(f"localstripe did not start: {printed}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()
