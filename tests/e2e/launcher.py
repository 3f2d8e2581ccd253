"""Starts the e2e tests' uvicorn servers by forking a process that has imported Meijing already.

`python -m uvicorn app.factory:create_app --factory` spends about two seconds of CPU importing
strawberry, SQLAlchemy and the schema before it serves; the e2e tests start some forty servers.
So each test process keeps one launcher: a Python process that imports uvicorn and `app.factory`
once, then for each server forks a child that takes the test's environment and working
directory, sends its output to the test's log file and runs uvicorn's own command line, exactly
as `python -m uvicorn` would. What serves is still the real uvicorn in a process of its own,
configured only by its environment; only the imports are shared.

`Launched` stands in for `subprocess.Popen` (poll, wait, terminate, kill, returncode): the
launcher is the server's parent, so it reaps it and reports its exit status.

Run as `python -m tests.e2e.launcher`: one JSON request per line on stdin, one answer per line
on stdout.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# --- the test side ------------------------------------------------------------------------------


class Launcher:
    """The test process's launcher, started on first use and stopped at exit."""

    _instance: Launcher | None = None

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEIJING_")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.launcher"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        assert self._ask({"op": "ready"}) == {"ready": True}
        atexit.register(self.close)

    @classmethod
    def get(cls) -> Launcher:
        if cls._instance is None or cls._instance._process.poll() is not None:
            cls._instance = Launcher()
        return cls._instance

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError(f"the server launcher exited with {self._process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Launched:
        answer = self._ask(
            {"op": "spawn", "argv": argv, "env": env, "cwd": str(cwd), "log": str(log_path)}
        )
        return Launched(self, int(answer["pid"]), argv)

    def status(self, pid: int) -> int | None:
        return self._ask({"op": "status", "pid": pid})["returncode"]  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the launcher exits at the end of its input
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


class Launched:
    """A server the launcher forked, with the part of `subprocess.Popen` the tests use."""

    def __init__(self, launcher: Launcher, pid: int, args: list[str]) -> None:
        self._launcher = launcher
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._launcher.status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.02)  # bounded polling of a process another process reaps
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# --- the launcher process ---------------------------------------------------------------------


def _run_child(request: dict[str, Any]) -> None:
    """In the forked child: become the server `python -m uvicorn <argv>` would be; never returns."""
    code = 1
    try:
        os.setsid()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the child's own streams
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        os.chdir(request["cwd"])
        sys.argv = ["uvicorn", *request["argv"]]
        from uvicorn.main import main

        try:
            main(args=request["argv"], prog_name="uvicorn")
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve() -> None:
    # What `python -m uvicorn app.factory:create_app --factory` imports before serving.
    import uvicorn.main
    import uvicorn.protocols.http.httptools_impl
    import uvicorn.protocols.websockets.websockets_impl  # noqa: F401
    import uvloop  # noqa: F401

    import app.factory  # noqa: F401

    exited: dict[int, int] = {}
    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, Any]
        if request["op"] == "ready":
            answer = {"ready": True}
        elif request["op"] == "spawn":
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _run_child(request)
            answer = {"pid": pid}
        else:
            pid = request["pid"]
            if pid not in exited:
                found, status = os.waitpid(pid, os.WNOHANG)
                if found:
                    exited[pid] = os.waitstatus_to_exitcode(status)
            answer = {"returncode": exited.get(pid)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
