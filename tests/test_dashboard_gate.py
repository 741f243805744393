"""The dashboard's gate (issue 19): no data beyond this computer without sign-in, however
the server was started, and only under the names it is meant for (DNS rebinding).

The rule itself (`_gate.decide`) is checked case by case and by property; then through
AppTest with Streamlit's options set (no interface is bound); then through a real
Streamlit server on 127.0.0.1 with a raw WebSocket client that sends a spoofed Host or
Origin, and in Chromium told to resolve evil.example to 127.0.0.1. No traffic leaves
the loopback interface: the browser resolves every other name to nothing, and the
server runs with CORS off so that Streamlit never looks up this machine's public
address to judge an Origin (our gate judges it).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest
from test_dashboard_fixtures import APP, REPO, running_dashboard

from analytics.ingest.load import ingest_files
from analytics.store import reader
from analytics.synth import generate, write

sys.path.insert(0, str(REPO / "dashboards"))
import _gate  # noqa: E402
from _gate import Visit, decide  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
LOCAL = {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"}
SIGN_IN = {"redirect_uri": "https://qi.example.org/oauth2callback", "cookie_secret": "s" * 32,
           "client_id": "x", "client_secret": "y",
           "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}  # fmt: skip


# --- the rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visit", "action"),
    [
        # this computer, by a loopback name, bound to loopback: shown
        (Visit("127.0.0.1", LOCAL), "show"),
        (Visit("localhost", {"host": "localhost:8501"}), "show"),
        (Visit("::1", {"host": "[::1]:8501", "origin": "http://[::1]:8501"}), "show"),
        (Visit("127.0.0.1", {"host": "127.0.0.2:8501"}), "show"),
        # DNS rebinding: another name, however it is spelt
        (Visit("127.0.0.1", {"host": "evil.example:8501", "origin": "http://evil.example:8501"}), "refuse"),
        (Visit("127.0.0.1", {"host": "evil.example"}), "refuse"),
        (Visit("127.0.0.1", {"host": "localhost.evil.example"}), "refuse"),
        (Visit("127.0.0.1", {"host": "127.0.0.1.nip.io:8501"}), "refuse"),
        (Visit("127.0.0.1", {"host": "127.0.0.1@evil.example"}), "refuse"),
        (Visit("127.0.0.1", {"host": ""}), "refuse"),
        (Visit("127.0.0.1", {"origin": "http://127.0.0.1:8501"}), "refuse"),  # no Host
        # a loopback Host, another site's Origin (or none that can be read)
        (Visit("127.0.0.1", {**LOCAL, "origin": "http://evil.example"}), "refuse"),
        (Visit("127.0.0.1", {**LOCAL, "origin": "null"}), "refuse"),
        (Visit("127.0.0.1", {**LOCAL, "origin": "file:///x.html"}), "refuse"),
        # beyond this computer without sign-in: refused however it was started
        (Visit("0.0.0.0", LOCAL), "refuse"),
        (Visit("::", LOCAL), "refuse"),
        (Visit(None, LOCAL), "refuse"),  # unset: Streamlit listens on every interface
        (Visit("", LOCAL), "refuse"),
        (Visit("10.1.2.3", {"host": "10.1.2.3:8501"}), "refuse"),
        (Visit("unix:///run/pumpqi.sock", LOCAL), "refuse"),
        (Visit("127.0.0.1", {**LOCAL, "x-forwarded-for": "10.9.8.7"}), "refuse"),
        (Visit("127.0.0.1", LOCAL, client_ip="10.9.8.7"), "refuse"),
        (Visit("127.0.0.1", {"host": "qi.example.org"}, allowed_hosts=("qi.example.org",)), "refuse"),
        (Visit("127.0.0.1", LOCAL, require_login=True), "refuse"),
        # with sign-in configured: asked to sign in, shown once signed in
        (Visit("0.0.0.0", {"host": "qi.example.org"}, sign_in_configured=True,
               public_host="qi.example.org"), "sign_in"),
        (Visit("0.0.0.0", {"host": "qi.example.org", "origin": "https://qi.example.org"},
               sign_in_configured=True, public_host="qi.example.org", signed_in=True), "show"),
        (Visit("10.1.2.3", {"host": "10.1.2.3:8501"}, sign_in_configured=True,
               signed_in=True), "show"),  # the address it listens on, typed as such
        (Visit("0.0.0.0", {"host": "pumps.intra:8501"}, sign_in_configured=True, signed_in=True,
               allowed_hosts=("pumps.intra",)), "show"),
        (Visit("0.0.0.0", {"host": "a.pumps.intra"}, sign_in_configured=True, signed_in=True,
               allowed_hosts=("*.pumps.intra",)), "show"),
        (Visit("127.0.0.1", LOCAL, sign_in_configured=True, require_login=True), "sign_in"),
        # signed in does not open other names
        (Visit("0.0.0.0", {"host": "evil.example"}, sign_in_configured=True,
               public_host="qi.example.org", signed_in=True), "refuse"),
        # no request at all (a test run, nothing listens): by the bind address alone
        (Visit(None), "show"),
        (Visit("0.0.0.0"), "refuse"),
        (Visit("0.0.0.0", sign_in_configured=True), "sign_in"),
    ],
)  # fmt: skip
def test_the_rule(visit: Visit, action: str) -> None:
    assert decide(visit).action == action


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=30)


@given(name=NAMES, port=st.integers(1, 65535), signed_in=st.booleans())
def test_no_unknown_name_is_ever_shown_data(name: str, port: int, signed_in: bool) -> None:
    visit = Visit("127.0.0.1", {"host": f"{name}:{port}"}, sign_in_configured=True,
                  signed_in=signed_in, public_host="qi.example.org")  # fmt: skip
    if _gate.is_loopback(name.rstrip(".")) or name.rstrip(".") == "qi.example.org":
        return
    assert decide(visit).action == "refuse"


@given(
    address=st.sampled_from(["0.0.0.0", "::", "192.168.1.5", "pumps.local", "unix:///s", None]),
    host=st.sampled_from(["127.0.0.1:8501", "localhost", "[::1]:80", "pumps.local"]),
    configured=st.booleans(),
)
def test_beyond_loopback_nothing_is_shown_without_signing_in(
    address: str | None, host: str, configured: bool
) -> None:
    visit = Visit(address, {"host": host}, sign_in_configured=configured,
                  allowed_hosts=("pumps.local",))  # fmt: skip
    assert decide(visit).action != "show"


# --- a small database ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("gate")
    write(generate(patients=60, years=1, seed=7, sites=1), base / "src", "csv")
    db = base / "tiny.duckdb"
    ingest_files(db, base / "src" / "visits.csv", base / "src" / "complications.csv")
    return db


@pytest.fixture(scope="module")
def worklist_ids(tiny_db: Path) -> list[str]:
    from analytics.engine.refills import worklist

    with reader(tiny_db) as con:
        ids = list(worklist(con, None, 14)["patient_id"])
    assert ids, "the tiny database must have patients on its worklist"
    return [str(i) for i in ids]


# --- AppTest with Streamlit's options set -----------------------------------------------


@pytest.fixture
def app(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("PUMPQI_DB", str(tiny_db))
    for name in ("PUMPQI_SHARING_ONLY", "PUMPQI_REQUIRE_LOGIN", "PUMPQI_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    before = st_config.get_option("server.address")
    try:
        yield AppTest.from_file(str(APP), default_timeout=60)
    finally:
        st_config.set_option("server.address", before)


def shows_no_data(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert not at.sidebar.selectbox, "not even the filters (they list sites and drugs)"


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.0.2.10"])
def test_a_network_address_without_sign_in_shows_no_data(app: AppTest, address: str) -> None:
    st_config.set_option("server.address", address)
    at = app.run()
    shows_no_data(at)
    assert "served beyond this computer without sign-in" in at.error[0].value
    at.switch_page("app_pages/worklist.py").run()
    shows_no_data(at)


def test_a_network_address_with_sign_in_asks_to_sign_in(app: AppTest) -> None:
    st_config.set_option("server.address", "0.0.0.0")
    app.secrets["auth"] = SIGN_IN
    at = app.run()
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]


def test_require_login_without_sign_in_configured_refuses(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUMPQI_REQUIRE_LOGIN", "1")
    st_config.set_option("server.address", "127.0.0.1")
    at = app.run()
    shows_no_data(at)
    assert at.error


def test_loopback_shows_the_data(app: AppTest) -> None:
    st_config.set_option("server.address", "127.0.0.1")
    at = app.run()
    assert not at.exception and not at.error
    assert at.metric and at.sidebar.selectbox


# --- the patient timeline: a link to a patient that is not there -----------------------


def test_a_patient_link_not_found_shows_nobody_and_says_so(app: AppTest) -> None:
    app.query_params["patient"] = "no-such-patient"
    at = app.run()
    at.switch_page("app_pages/timeline.py").run()
    assert not at.exception and not at.error
    assert any("not among the patients listed here" in w.value for w in at.warning)
    assert at.selectbox(key="pq_patient").value is None
    assert not at.get("plotly_chart") and not at.dataframe, "no other patient is shown"
    first = at.selectbox(key="pq_patient").options[0]
    at.selectbox(key="pq_patient").select(first).run()
    assert not at.warning and at.get("plotly_chart")
    assert at.query_params["patient"] == first


def test_a_patient_link_found_shows_that_patient(app: AppTest, worklist_ids: list[str]) -> None:
    wanted = sorted(worklist_ids)[-1]
    app.query_params["patient"] = wanted
    at = app.run()
    at.switch_page("app_pages/timeline.py").run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="pq_patient").value == wanted
    assert wanted in at.get("plotly_chart")[0].proto.spec  # type: ignore[attr-defined]


# --- a real server on 127.0.0.1 --------------------------------------------------------


@pytest.fixture(scope="module")
def server(tiny_db: Path) -> Iterator[int]:
    args = ("--server.enableCORS", "false", "--server.enableXsrfProtection", "false",
            "--server.fileWatcherType", "none")  # fmt: skip
    unset = ("PUMPQI_REQUIRE_LOGIN", "PUMPQI_ALLOWED_HOSTS")
    with running_dashboard(tiny_db, args, unset, wait_s=90) as port:
        yield port


def page_bytes(port: int, host: str, origin: str | None, page: str = "worklist") -> bytes:
    """Run `page` over Streamlit's WebSocket, connected to 127.0.0.1 but naming `host`;
    return every message the server sent, serialised."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    headers = {"Origin": origin} if origin else {}
    out = b""
    with connect(f"ws://{host}/_stcore/stream", sock=sock, additional_headers=headers,
                 subprotocols=["streamlit"], open_timeout=30) as ws:  # fmt: skip
        msg = BackMsg()
        msg.rerun_script.page_name = page
        ws.send(msg.SerializeToString())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            raw = ws.recv(timeout=90)
            assert isinstance(raw, bytes)
            out += raw
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            if fm.WhichOneof("type") == "script_finished":
                return out
    pytest.fail("the page did not finish")


@pytest.mark.slow
def test_a_real_server_answers_only_its_own_names(server: int, worklist_ids: list[str]) -> None:
    port = server
    local = f"127.0.0.1:{port}"
    shown = page_bytes(port, local, f"http://{local}")
    assert any(pid.encode() in shown for pid in worklist_ids), "a normal request sees the list"
    assert b"does not answer to the address" not in shown
    assert any(pid.encode() in page_bytes(port, f"localhost:{port}", None) for pid in worklist_ids)
    for host, origin, words in [
        (f"evil.example:{port}", f"http://evil.example:{port}", b"does not answer to the address"),
        (f"evil.example:{port}", None, b"does not answer to the address"),
        (local, "http://evil.example", b"came from another web site"),
        (local, "null", b"came from another web site"),
    ]:
        refused = page_bytes(port, host, origin)
        assert words in refused, (host, origin)
        for pid in worklist_ids:
            assert pid.encode() not in refused, (host, origin)
        assert b"tiny.duckdb" not in refused and b"Filters" not in refused


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_dns_rebinding_in_a_real_browser_gets_the_refusal_page(
    server: int, worklist_ids: list[str]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--no-proxy-server",
        # evil.example is this computer (as after a DNS rebinding); every other name fails
        "--host-resolver-rules=MAP evil.example 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page()
            page.goto(f"http://evil.example:{server}/worklist")
            expect(page.get_by_text("does not answer to the address")).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1500)
            assert page.get_by_test_id("stDataFrame").count() == 0
            text = page.inner_text("body")
            assert not any(pid in text for pid in worklist_ids)
            page.goto(f"http://127.0.0.1:{server}/worklist")
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)
        finally:
            browser.close()
