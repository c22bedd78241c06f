"""The child processes `gongzhi demo` starts (the web server and the task worker) and watches."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence


def local_url(host: str, port: int) -> str:
    """Where to reach a server bound to host:port from this machine."""
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """In a child: get SIGTERM if the demo is killed outright, so no server is left holding the port."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Child:
    def __init__(self, label: str, argv: list[str], stop_signal: int):
        self.label, self.stop_signal = label, stop_signal
        # Own session: Ctrl-C reaches only the demo, which then stops each child exactly once.
        self.process = subprocess.Popen(
            argv, start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None
        )

    def exited(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)

    def wait_or_kill(self, deadline: float) -> None:
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_until_answering(url: str, children: Sequence[Child], timeout: float,
                         stopping: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping():
        if any(child.exited() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:  # 503 still means the web server answers
            return True
        except OSError:
            time.sleep(0.3)
    return False
