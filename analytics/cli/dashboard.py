"""`pumpqi dashboard` and `pumpqi demo`: serve the Streamlit dashboard over a database.

The dashboard binds 127.0.0.1 by default. Serving it on any other address exposes
patient-level (pseudonymous) data to the network, so it is refused unless Streamlit
authentication is configured: a secrets.toml with an `[auth]` section (see
dashboards/README.md). The app then asks everyone to sign in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
import webbrowser
from pathlib import Path

import click

from analytics.cli.common import config_option, db_option, friendly
from analytics.errors import PumpqiError

LOCAL_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})
DEMO_DB = "demo.duckdb"


def dashboards_dir() -> Path:
    """The repository's dashboards/ folder (beside the analytics package)."""
    here = Path(__file__).resolve().parents[2] / "dashboards"
    if not (here / "app.py").is_file():
        raise PumpqiError(
            f"the dashboard files were not found at {here}; run pumpqi from a checkout of "
            "the repository (the dashboards/ folder is not part of the wheel)"
        )
    return here


def secrets_files(app_dir: Path, cwd: Path | None = None) -> list[Path]:
    """Where Streamlit reads secrets.toml: the user's, the working folder's, the app's."""
    cwd = cwd or Path.cwd()
    return [
        Path.home() / ".streamlit" / "secrets.toml",
        cwd / ".streamlit" / "secrets.toml",
        app_dir / ".streamlit" / "secrets.toml",
    ]


def auth_configured(app_dir: Path, cwd: Path | None = None) -> bool:
    """True when one of Streamlit's secrets files has an [auth] section."""
    for path in secrets_files(app_dir, cwd):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("auth"), dict) and data["auth"]:
            return True
    return False


def check_host(host: str, app_dir: Path) -> bool:
    """Whether visitors must sign in; refuses a non-local address without [auth]."""
    if host in LOCAL_HOSTS:
        return False
    if not auth_configured(app_dir):
        raise PumpqiError(
            f"--host {host}: serving beyond this computer needs sign-in; add an [auth] "
            "section to .streamlit/secrets.toml (see dashboards/README.md) or use the "
            "default --host 127.0.0.1"
        )
    return True


WARM_ENV = "PUMPQI_WARM"
"""Set to 1 in the server's environment: it computes every page's default view before it
is asked for, and again when an ingest replaces the database (dashboards/_warm.py)."""
WARM_READY = "views ready"
"""In the server's log line when a warm-up is done (benchmarks/crowd.py waits for it)."""
WARM_FAILED = "no views computed"
"""In the server's log line when a warm-up could not read the data."""


def streamlit_command(app: Path, host: str, port: int) -> list[str]:
    """How the dashboard is served. Not after every page: a full garbage collection
    (Streamlit's default; with the figures of a large database in memory it was more than
    half of the server's time under a crowd) and watching the code for changes (it does
    not change while serving)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--runner.postScriptGC", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip


def serve(
    db: Path,
    host: str = "127.0.0.1",
    port: int = 8501,
    config_file: str | None = None,
    open_browser: bool = False,
) -> int:
    """Run the dashboard until interrupted; return Streamlit's exit code."""
    from analytics.store import reader

    app_dir = dashboards_dir()
    login = check_host(host, app_dir)
    with reader(db):
        pass  # a clear error now rather than in the browser
    env = dict(os.environ, PUMPQI_DB=str(db.resolve()))
    env.setdefault(WARM_ENV, "1")  # PUMPQI_WARM=0 in the environment turns it off
    if config_file:
        env["PUMPQI_CONFIG"] = str(Path(config_file).resolve())
    if login:
        env["PUMPQI_REQUIRE_LOGIN"] = "1"
    url = f"http://{'127.0.0.1' if host in LOCAL_HOSTS else host}:{port}"
    click.echo(f"pumpqi dashboard on {url}  (database {db}; Ctrl+C to stop)", err=True)
    proc = subprocess.Popen(streamlit_command(app_dir / "app.py", host, port), env=env)
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop_server(proc)
        return 0


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a dashboard server: asked first, killed after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_until_healthy(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0
) -> bool:
    """Poll the server at `url` until its health check answers ok (True); False when
    `proc` (the server) ended or `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            return False
        time.sleep(0.3)


def _open_when_ready(url: str, timeout: float = 60.0) -> None:
    if wait_until_healthy(url, timeout=timeout):
        webbrowser.open(url)


@click.command()
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but this computer (127.0.0.1, localhost, ::1) "
    "needs Streamlit sign-in configured: an [auth] section in .streamlit/secrets.toml.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@config_option
@friendly
def dashboard(db: str, host: str, port: int, config_file: str | None) -> None:
    """Serve the dashboard over a database, read-only (Streamlit, in your browser).

    Binds 127.0.0.1 by default: only this computer can open it. To serve other
    computers, configure sign-in first (an [auth] section in .streamlit/secrets.toml;
    see dashboards/README.md); without it a non-local --host is refused.

    Example: pumpqi dashboard --db pumps.duckdb --port 8501
    """
    path = Path(db)
    if not path.exists():
        raise PumpqiError(
            f"{path.name}: database not found; create it with `pumpqi ingest --db {db} ...`"
        )
    sys.exit(serve(path, host, port, config_file))


@click.command()
@click.option(
    "--patients", type=click.IntRange(min=20), default=None, help="Number of patients [600]."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-data"),
    show_default=True,
    help="Where the synthetic files and demo.duckdb are written.",
)
@click.option("--no-browser-open", is_flag=True, help="Do not open a browser tab.")
@friendly
def demo(patients: int | None, port: int, directory: Path, no_browser_open: bool) -> None:
    """Make a synthetic data set, load it and open the dashboard: the one-command first run.

    The data are invented (seeded, so the same every time): 600 patients over 4
    years at 3 sites by default. Nothing real is read or written.

    Example: pumpqi demo --patients 300 --port 8502
    """
    db = build_demo(directory, patients)
    sys.exit(serve(db, "127.0.0.1", port, None, open_browser=not no_browser_open))


def build_demo(directory: Path, patients: int | None = None) -> Path:
    """Write the seeded demo files into DIR and ingest them into DIR/demo.duckdb (replaced)."""
    from analytics.ingest.load import ingest_files
    from analytics.synth import DEMO, generate, write

    n = DEMO["patients"] if patients is None else patients
    years, sites, seed = DEMO["years"], DEMO["sites"], DEMO["seed"]
    click.echo(f"making synthetic data: {n} patients, {years} years, {sites} sites …", err=True)
    result = generate(patients=n, years=years, seed=seed, sites=sites)
    files = directory / "source"
    write(result, files, "csv")
    db = directory / DEMO_DB
    for stale in (db, db.with_name(DEMO_DB + ".wal")):
        stale.unlink(missing_ok=True)
    for r in ingest_files(db, files / "visits.csv", files / "complications.csv"):
        click.echo(r.line(), err=True)
    return db
