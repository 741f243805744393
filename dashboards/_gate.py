"""The dashboard's gate, run first by app.py on every rerun, before any data is read.

Data are shown without sign-in only to a browser on this computer: the server listens
on a loopback address (127.0.0.1, ::1, localhost) and the request names a loopback
host, directly (no proxy in between). Everything else needs Streamlit's sign-in (an
[auth] section in secrets.toml) and a signed-in visitor. Whatever the case, a request
is answered only when its Host (and Origin, when sent) is a loopback name, a name in
PUMPQI_ALLOWED_HOSTS, the host of the sign-in's redirect_uri or the address the server
listens on: a web page that re-points its own name at this computer (DNS rebinding)
gets a refusal page and no data. This holds however the server was started
(`pumpqi dashboard` or `streamlit run dashboards/app.py ...`).

`decide` is the rule (pure, tested on its own); `enforce` reads Streamlit's state,
draws the refusal or the sign-in page and stops the run.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import streamlit as st

ALLOWED_HOSTS_ENV = "PUMPQI_ALLOWED_HOSTS"
REQUIRE_LOGIN_ENV = "PUMPQI_REQUIRE_LOGIN"
FORWARDING_HEADERS: tuple[str, ...] = ("forwarded", "x-forwarded-for", "x-forwarded-host",
                                       "x-real-ip")  # fmt: skip
"""Headers a reverse proxy adds: the visitor is then on another computer."""

log = logging.getLogger("pumpqi.dashboard")


@dataclass(frozen=True)
class Visit:
    """What the gate looks at, read from Streamlit (see `current_visit`)."""

    address: str | None  # server.address (None: unset, every interface)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    client_ip: str | None = None
    sign_in_configured: bool = False
    public_host: str | None = None  # the host of [auth] redirect_uri
    signed_in: bool = False
    allowed_hosts: tuple[str, ...] = ()  # PUMPQI_ALLOWED_HOSTS
    require_login: bool = False  # PUMPQI_REQUIRE_LOGIN=1


@dataclass(frozen=True)
class Verdict:
    action: Literal["show", "sign_in", "refuse"]
    reason: str = ""  # a short code for the server log


SHOW = Verdict("show")


def is_loopback(name: str | None) -> bool:
    """True for localhost and loopback IP addresses (127.0.0.0/8, ::1)."""
    if not name:
        return False
    name = name.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def hostname(value: str | None) -> str | None:
    """The host name of a Host header (`name[:port]`), or None when malformed."""
    if not value or any(c in value for c in "/\\@?# \t"):
        return None
    try:
        parts = urlsplit(f"//{value.strip()}")
        _ = parts.port  # a port, when given, must be a number in range
    except ValueError:
        return None
    return parts.hostname.rstrip(".") if parts.hostname else None


def origin_hostname(value: str) -> str | None:
    """The host name of an Origin header (`scheme://name[:port]`), or None."""
    try:
        parts = urlsplit(value.strip())
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.path or parts.username:
        return None
    return parts.hostname.rstrip(".") if parts.hostname else None


def _name_allowed(name: str, visit: Visit) -> bool:
    if is_loopback(name):
        return True
    names = {h.strip().lower().rstrip(".") for h in visit.allowed_hosts if h.strip()}
    if visit.public_host:
        names.add(visit.public_host.lower())
    if visit.address and not visit.address.startswith("unix://"):
        bound = visit.address.strip("[]").lower()
        if bound not in ("0.0.0.0", "::"):
            names.add(bound)  # the address it listens on, typed as such
    return name in names or any(n.startswith("*.") and name.endswith(n[1:]) for n in names)


def bound_beyond_loopback(address: str | None, served: bool) -> bool:
    """Whether the server listens beyond this computer. An unset address is every
    interface when a server runs; with no request at all (a test run) nothing listens."""
    if not address:
        return served
    if address.startswith("unix://"):
        return True  # reached through whatever forwards to the socket
    return not is_loopback(address)


def _remote(visit: Visit, host: str | None) -> bool:
    """Whether the visitor may be on another computer."""
    served = bool(visit.headers)
    if bound_beyond_loopback(visit.address, served):
        return True
    if not served:
        return False
    if not is_loopback(host) or any(h in visit.headers for h in FORWARDING_HEADERS):
        return True
    return visit.client_ip is not None and not is_loopback(visit.client_ip)


def decide(visit: Visit) -> Verdict:
    """Show the data, ask to sign in, or refuse (see the module's docstring)."""
    host: str | None = None
    if visit.headers:  # a real request (a test run without a server has none)
        host = hostname(visit.headers.get("host"))
        if host is None or not _name_allowed(host.lower(), visit):
            return Verdict("refuse", "host")
        origin = visit.headers.get("origin")
        if origin is not None:
            name = origin_hostname(origin)
            if name is None or not _name_allowed(name.lower(), visit):
                return Verdict("refuse", "origin")
    if not (visit.require_login or _remote(visit, host)):
        return SHOW
    if not visit.sign_in_configured:
        return Verdict("refuse", "no-sign-in")
    return SHOW if visit.signed_in else Verdict("sign_in", "sign-in")


# --- Streamlit side ------------------------------------------------------------------


def _auth_section() -> Mapping[str, Any]:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets.toml, or one that does not parse: no sign-in
        return {}
    return section if isinstance(section, Mapping) else {}


def current_visit() -> Visit:
    auth = _auth_section()
    redirect = auth.get("redirect_uri")
    public_host = urlsplit(redirect).hostname if isinstance(redirect, str) else None
    headers = {k.lower(): v for k, v in st.context.headers.to_dict().items()}
    ip = st.context.ip_address
    allowed = os.environ.get(ALLOWED_HOSTS_ENV, "")
    return Visit(
        address=st.get_option("server.address"),
        headers=headers,
        client_ip=ip if isinstance(ip, str) else None,
        sign_in_configured=bool(auth),
        public_host=public_host,
        signed_in=st.user.to_dict().get("is_logged_in") is True,
        allowed_hosts=tuple(h for h in allowed.replace(";", ",").split(",") if h.strip()),
        require_login=os.environ.get(REQUIRE_LOGIN_ENV) == "1",
    )


REFUSALS = {
    "host": (
        "This dashboard does not answer to the address in your browser's address bar, so it "
        "shows nothing. Open it by the address you were given (on the computer that runs it: "
        "http://localhost:{port}). An administrator can add a name to PUMPQI_ALLOWED_HOSTS."
    ),
    "origin": (
        "This request came from another web site, so the dashboard shows nothing. Open the "
        "dashboard directly by its own address (on the computer that runs it: "
        "http://localhost:{port})."
    ),
    "no-sign-in": (
        "This dashboard is served beyond this computer without sign-in, so it shows no data. "
        "Either serve it on this computer only (`pumpqi dashboard`, or `--server.address "
        "127.0.0.1`, open http://localhost:{port}) or configure sign-in: an [auth] section "
        "in .streamlit/secrets.toml (see dashboards/README.md)."
    ),
}


def enforce() -> None:
    """Draw the refusal or sign-in page and stop the run, unless the data may be shown."""
    verdict = decide(current_visit())
    if verdict.action == "show":
        return
    st.title("pumpqi dashboard")
    if verdict.action == "sign_in":
        st.write("Please sign in to see the dashboard.")
        st.button("Sign in", on_click=st.login)
    else:
        log.warning("dashboard request refused (%s)", verdict.reason)
        port = st.get_option("server.port")
        st.error(REFUSALS[verdict.reason].format(port=port), icon=":material/block:")
    st.stop()
