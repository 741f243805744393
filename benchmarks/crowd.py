"""The dashboard under a crowd: N concurrent sessions loading pages from one real server.

    python benchmarks/crowd.py --scale 1m --sessions 20 --seconds 120
    python benchmarks/crowd.py --db pumps.duckdb --sessions 5 --loads 50 --page overview

Starts the dashboard (`streamlit run dashboards/app.py`) on 127.0.0.1 only, over the
benchmark database of a scale (benchmarks/run.py makes it) or a given file, then runs
N sessions at once. Each session connects to the server's WebSocket as a browser does,
asks for a page (in turn from --page, default every data page) and waits until the
page's script has finished; the page time is that wait. The run stops after --seconds
or after --loads page loads in all, whichever comes first (both bounded), then prints
the number of loads, errors, the median and 90th percentile page time overall and per
page, the first loads, and the server's CPU time (how many cores it used).

The server runs as `pumpqi dashboard` runs it: its first page load starts the warm-up,
which computes every page's default view in the background (dashboards/_warm.py).
Before the crowd, the benchmark times that first load, waits for the warm-up to finish
(its line in the server's log) and times each page's first load after it (what the
first person to open a page after an ingest meets). --no-warm: a server without the
warm-up, and a crowd that meets the pages cold.

The server caches figures for every session (keyed by the database file, the cut-off,
the configuration and the filters), so a crowd asking the same view computes it once.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analytics.cli.dashboard import (
    WARM_ENV,
    WARM_FAILED,
    WARM_READY,
    stop_server,
    streamlit_command,
    wait_until_healthy,
)

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "dashboards" / "app.py"
PAGES = ("", "refills", "complications", "worklist", "planning", "survival")
"""Streamlit's page names ("" is the default page, Overview)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(db: Path, warm: bool = True, wait_s: float = 120) -> Iterator[tuple[int, int, Path]]:
    """(port, pid, log file) of a dashboard server on 127.0.0.1 over `db`, stopped
    afterwards; `warm`: with the server's warm-up of the default views, as `pumpqi
    dashboard` serves it."""
    port = _free_port()
    env = dict(os.environ, PUMPQI_DB=str(db), **{WARM_ENV: "1" if warm else "0"})
    env.pop("PUMPQI_SHARING_ONLY", None)
    cmd = streamlit_command(APP, "127.0.0.1", port)  # as `pumpqi dashboard` serves it
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            if not wait_until_healthy(f"http://127.0.0.1:{port}", proc, wait_s):
                raise SystemExit("the dashboard did not start")
            yield port, proc.pid, log
        finally:
            stop_server(proc)


def wait_for_warm_up(log: Path, timeout_s: float = 600) -> float:
    """Seconds until the server's log says its warm-up is done (dashboards/_warm.py)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        text = log.read_text(errors="replace")
        if WARM_READY in text:
            return time.monotonic() - start
        if WARM_FAILED in text:
            raise SystemExit(f"the server's warm-up failed: {text.strip().splitlines()[-1]}")
        time.sleep(0.2)
    raise TimeoutError("the server's warm-up")


def load_page(port: int, page: str, timeout_s: float = 300) -> float:
    """Seconds from asking for `page` on a new session until its script finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    local = f"127.0.0.1:{port}"
    start = time.monotonic()
    with connect(f"ws://{local}/_stcore/stream", subprotocols=["streamlit"],  # type: ignore[list-item]
                 additional_headers={"Origin": f"http://{local}"}, open_timeout=60,
                 max_size=None) as ws:  # fmt: skip
        msg = BackMsg()
        msg.rerun_script.page_name = page
        ws.send(msg.SerializeToString())
        while time.monotonic() - start < timeout_s:
            raw = ws.recv(timeout=timeout_s)
            fm = ForwardMsg()
            fm.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
            if fm.WhichOneof("type") == "script_finished":
                return time.monotonic() - start
    raise TimeoutError(page)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def crowd(port: int, sessions: int, seconds: float, loads: int, pages: tuple[str, ...]
          ) -> tuple[list[tuple[str, float]], int]:  # fmt: skip
    """Page times (page, seconds) of `sessions` concurrent sessions, and the error count."""
    times: list[tuple[str, float]] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    counter = iter(range(loads))

    def session(k: int) -> None:
        nonlocal errors
        turn = k
        while time.monotonic() < stop:
            with lock:
                if next(counter, None) is None:
                    return
            page = pages[turn % len(pages)]
            turn += 1
            try:
                took = load_page(port, page)
            except Exception:  # noqa: BLE001 - counted and reported, the run goes on
                with lock:
                    errors += 1
                continue
            with lock:
                times.append((page, took))

    threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def _p90(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scale", help="the benchmark database of this scale (run.py makes it)")
    where.add_argument("--db", type=Path, help="a pumpqi database file")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120, help="stop after (default 120)")
    parser.add_argument("--loads", type=int, default=400, help="stop after this many loads")
    parser.add_argument("--page", action="append", choices=[p or "overview" for p in PAGES])
    parser.add_argument(
        "--no-warm", dest="warm", action="store_false",
        help="a server without its warm-up, and a crowd that meets the pages cold (by "
        "default the server computes every page's default view first, as `pumpqi "
        "dashboard` does)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    db = args.db or HERE / "data" / args.scale / "bench.duckdb"
    if not db.exists():
        raise SystemExit(
            f"{db}: no such database (benchmarks/run.py --scale {args.scale} makes it)"
        )
    pages = tuple("" if p == "overview" else p for p in args.page) if args.page else PAGES
    warmed = None
    with server(db, args.warm) as (port, pid, log):
        first = [(pages[0], load_page(port, pages[0]))]  # with --warm it starts the warm-up
        if args.warm:  # then each page as its first visitor after the warm-up
            warmed = wait_for_warm_up(log)
            first += [(p, load_page(port, p)) for p in pages]
        cpu0, t0 = _cpu_seconds(pid), time.monotonic()
        times, errors = crowd(port, args.sessions, args.seconds, args.loads, pages)
        cpu, wall = _cpu_seconds(pid) - cpu0, time.monotonic() - t0
    if not times:
        raise SystemExit(f"no page loaded ({errors} errors)")
    values = [t for _, t in times]
    print(f"database {db.name}, {args.sessions} sessions, {len(times)} page loads in {wall:.0f} s, "
          f"{errors} errors")  # fmt: skip
    how = "cold, it starts the warm-up" if args.warm else "cold"
    print(f"the server's first page load ({how}): {first[0][1]:.2f} s")
    if warmed is not None:
        print(f"warm-up done {warmed:.1f} s later; then each page's first load: " + ", ".join(
            f"{p or 'overview'} {t:.2f} s" for p, t in first[1:]))  # fmt: skip
    print(
        f"all pages: median {statistics.median(values):.2f} s, 90th percentile {_p90(values):.2f} s"
    )
    for page in pages:
        mine = [t for p, t in times if p == page]
        if mine:
            print(f"  {page or 'overview':<14} {len(mine):>4} loads  median "
                  f"{statistics.median(mine):.2f} s  p90 {_p90(mine):.2f} s")  # fmt: skip
    print(f"server CPU {cpu:.0f} s in {wall:.0f} s: {cpu / wall:.2f} cores on average "
          f"(this machine has {os.cpu_count()})")  # fmt: skip
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
