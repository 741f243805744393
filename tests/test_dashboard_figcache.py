"""Drawings shared across sessions (dashboards/_figcache.py): built once for a content,
built again for any other content, bounded in number."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboards"))

import _figcache  # noqa: E402

CALLS: list[int] = []


def build(frame: pd.DataFrame, title: str) -> go.Figure:
    CALLS.append(1)
    return go.Figure(go.Scatter(x=frame["x"], y=frame["y"]), layout={"title": title})


def test_an_equal_content_is_built_once_and_a_different_one_again() -> None:
    CALLS.clear()
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [4.0, 5.0, 6.0]})
    first = _figcache.shared(build, frame, "a")
    copy = pickle.loads(pickle.dumps(frame))  # another session's copy of the same figures
    assert _figcache.shared(build, copy, "a") is first and len(CALLS) == 1
    changed = frame.assign(y=[4.0, 5.0, 6.5])
    other = _figcache.shared(build, changed, "a")
    assert other is not first and len(CALLS) == 2
    assert list(other.data[0].y) == [4.0, 5.0, 6.5]
    assert _figcache.shared(build, frame, "b") is not first and len(CALLS) == 3


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    CALLS.clear()
    frame = pd.DataFrame({"x": [1], "y": [1.0]})
    kept = _figcache.shared(build, frame, "kept")
    for i in range(_figcache.MAX_BUILT + 5):
        _figcache.shared(build, frame, f"t{i}")
        if i % 100 == 0:
            assert _figcache.shared(build, frame, "kept") is kept  # recently used: stays
    assert len(_figcache._BUILT) == _figcache.MAX_BUILT
    calls = len(CALLS)
    _figcache.shared(build, frame, "t0")  # the oldest: forgotten, built again
    assert len(CALLS) == calls + 1
