"""Drawings built once for a content and shared by every session of the server.

Building a plotly figure validates every property in Python (about 0.05 s a chart), and
laying out a figure table formats every cell: once the figures are cached, that is most
of a page's time, and a committee opening one view at once would build the same drawings
again and again on the server's one core. A drawing (a plotly figure, a table's shown
frame and column settings) is kept under the digest of everything it is built from (the
builder's name and its arguments, pickled), so a different content never gets a stale
drawing; a stored drawing is only read afterwards (Streamlit turns it into JSON or
Arrow), never changed."""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

import plotly.graph_objects as go
import streamlit as st

MAX_BUILT = 512
_BUILT: OrderedDict[str, Any] = OrderedDict()
_LOCK = threading.Lock()
T = TypeVar("T")


def digest(build: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """The key of a figure: its builder and its arguments, pickled and hashed."""
    blob = pickle.dumps((build.__module__, build.__qualname__, args), protocol=5)
    return hashlib.sha256(blob).hexdigest()


def shared(build: Callable[..., T], *args: Any) -> T:
    """`build(*args)`, from the cache when an equal content was built before."""
    key = digest(build, args)
    with _LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return cast(T, _BUILT[key])
    value = build(*args)  # outside the lock: two sessions may build it once each, harmlessly
    with _LOCK:
        _BUILT[key] = value
        while len(_BUILT) > MAX_BUILT:
            _BUILT.popitem(last=False)
    return value


def draw_shared(build: Callable[..., go.Figure], *args: Any, key: str) -> None:
    """Draw `build(*args)` (shared across sessions) as a full-width chart."""
    st.plotly_chart(shared(build, *args), width="stretch", key=key)
