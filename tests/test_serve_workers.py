"""`account-center serve --workers N` (issue 16): N uvicorn worker processes on one port and one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.loopback import listening_socket, port_of

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    # The serving processes bind the port themselves: found free, then released (a small window remains in
    # which another test could take it; the start-up check below would then fail loudly, not hang).
    sock = listening_socket()
    try:
        return port_of(sock)
    finally:
        sock.close()


def _workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under `pid` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        and b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited before serving"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200 and len(_workers_of(process.pid)) == workers:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waits for the server processes to start, not for the test clock
    raise AssertionError("serve --workers did not start")


def _env(settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "DATABASE_URL": settings.database_url,  # a file SQLite database, or the run's PostgreSQL one
        "ENVIRONMENT": "test",
        "SANDBOX": "true",
        "SWEEP_INTERVAL_SECONDS": "0",
    }
    return {**env, **extra}


@contextmanager
def _serving(env: dict[str, str], workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes], list[bytes]]]:
    """`serve --workers N` on a free loopback port until the block ends, then SIGINT; yields the base URL, the
    process and a list that holds its stderr once it has exited (checked by the caller after the block)."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "serve",
            "--workers",
            str(workers),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a supervisor that does not stop is killed with its workers
    )
    base = f"http://127.0.0.1:{port}"
    err: list[bytes] = []
    try:
        _wait_until_serving(base, process, workers=workers)
        yield base, process, err
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
        err.append(stderr)


def _metric_total(text: str, name: str) -> float:
    """The sum of a metric's samples over all label values in Prometheus text."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def _multiproc_dir_of(worker: int) -> str | None:
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return found[0] if found else None


def test_serve_with_two_workers_answers_from_two_processes_on_one_port(settings, tmp_path) -> None:
    with _serving(_env(settings, tmp_path), workers=2) as (base, process, err):
        # Two worker processes under the supervisor, each with its own PID
        workers = _workers_of(process.pid)
        assert len(set(workers)) == 2
        # And requests over fresh connections, each reading the database, all succeed
        for _ in range(20):
            response = httpx.post(f"{base}/graphql", json={"query": "{ viewer { id } }"}, timeout=10)
            assert response.status_code == 200
            assert response.json() == {"data": {"viewer": None}}
        # PROMETHEUS_MULTIPROC_DIR was unset: serve made a private directory for the workers' metric values,
        # so a scrape of whichever worker answers adds up the 20 operations both answered
        (private,) = {_multiproc_dir_of(w) for w in workers}  # one directory, shared
        assert private is not None
        metrics_dir = Path(private)
        assert metrics_dir.is_dir()
        scraped = httpx.get(f"{base}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert _metric_total(scraped.text, "account_center_graphql_requests_total") == 20
    # The supervisor stops its workers and exits cleanly, and removes the private directory
    assert process.returncode == 0, err[0].decode()[-2000:]
    assert all(not Path(f"/proc/{w}").exists() or b"zombie" in Path(f"/proc/{w}/status").read_bytes() for w in workers)
    assert not metrics_dir.exists()


def test_serve_empties_the_configured_metrics_directory_at_start(settings, tmp_path) -> None:
    """A PROMETHEUS_MULTIPROC_DIR that a previous run left values in: serve deletes prometheus_client's files
    there before the workers start (else a scrape would add the old run's counts to this one's), and leaves
    anything else in the directory alone."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "README").write_text("the operator's own file")
    previous_run = "from services import metrics\nmetrics.CODES_SENT.labels('LOGIN', 'sms').inc(7)\n"
    subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", previous_run],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        cwd=ROOT,
        check=True,
    )
    assert list(metrics_dir.glob("*.db"))  # the previous run's values
    env = _env(settings, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    with _serving(env, workers=2) as (base, process, err):
        assert {_multiproc_dir_of(w) for w in _workers_of(process.pid)} == {str(metrics_dir)}
        scraped = httpx.get(f"{base}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert "account_center_codes_sent_total{" not in scraped.text  # nothing of the previous run's 7
    assert process.returncode == 0, err[0].decode()[-2000:]
    # The configured directory is the operator's: it stays, with their file in it
    assert (metrics_dir / "README").read_text() == "the operator's own file"


def test_serve_refuses_a_metrics_directory_it_cannot_create(settings, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = _env(settings, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(blocker / "metrics"))
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, str(ROOT / "cli.py"), "serve", "--workers", "2", "--port", str(_free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # if it served instead of refusing, its workers are stopped with it below
    )
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
    assert process.returncode == 2
    assert "refused to start: PROMETHEUS_MULTIPROC_DIR" in err.decode()
