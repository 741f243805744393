"""Metric configuration, declared once as data (METRICS.md defaults).

A site may override any setting with a TOML file (`--config FILE`):

    grace_days = 3
    [stability_caps]
    baclofen = 150
    [model_alarm_ml]
    prometra = 3.0

`pumpqi config` prints the effective configuration.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from analytics.errors import PumpqiError


@dataclass(frozen=True)
class Setting:
    """One scalar setting: name, default and the help text shown everywhere."""

    name: str
    default: float | int
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("grace_days", 0, "days after the due date a refill still counts as on time"),
    Setting(
        "early_days", 14, "a refill more than this many days before its due date is flagged early"
    ),
    Setting(
        "residual_tolerance_ml", 2.0, "|actual - expected residual| above this (mL) is flagged"
    ),
    Setting(
        "default_alarm_ml",
        2.0,
        "low-reservoir alarm volume when neither the visit nor the model gives one",
    ),
    Setting(
        "ziconotide_first_fill_cap_days",
        14,
        "stability cap of ziconotide on a new pump's first fill",
    ),
    Setting(
        "default_cap_days",
        90,
        "stability cap of any drug not listed (fentanyl, sufentanil, unknown, ...)",
    ),
    Setting("worklist_days", 14, "the worklist shows fills due within this many days"),
    Setting("suppress_below", 11, "small-cell suppression threshold for outputs shared outside"),
)

DEFAULT_CAPS: dict[str, int] = {
    "baclofen": 180,
    "morphine": 90,
    "hydromorphone": 90,
    "ziconotide": 40,
}
DEFAULT_MODEL_ALARMS: dict[str, float] = {"prometra": 3.0, "synchromed": 2.0}


@dataclass(frozen=True)
class Config:
    """The effective metric configuration."""

    grace_days: int = 0
    early_days: int = 14
    residual_tolerance_ml: float = 2.0
    default_alarm_ml: float = 2.0
    ziconotide_first_fill_cap_days: int = 14
    default_cap_days: int = 90
    worklist_days: int = 14
    suppress_below: int = 11
    stability_caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    model_alarm_ml: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MODEL_ALARMS))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        """A short hash of the effective configuration, for report manifests."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def table(self) -> list[tuple[str, str, str]]:
        """(setting, value, meaning) rows for `pumpqi config` and the definitions page."""
        rows = [(s.name, str(getattr(self, s.name)), s.help) for s in SETTINGS]
        for drug, days in sorted(self.stability_caps.items()):
            rows.append(
                (f"stability_caps.{drug}", str(days), f"maximum refill interval of {drug} (days)")
            )
        for pattern, ml in sorted(self.model_alarm_ml.items()):
            rows.append(
                (
                    f"model_alarm_ml.{pattern}",
                    str(ml),
                    f"alarm volume (mL) of a pump model whose name contains '{pattern}'",
                )
            )
        return rows


DEFAULT = Config()


def load_config(path: str | Path | None) -> Config:
    """Defaults overridden by a TOML file; unknown keys and wrong types are refused."""
    if path is None:
        return DEFAULT
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PumpqiError(f"{p.name}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PumpqiError(f"{p.name}: not valid TOML ({exc})") from None
    scalars = {s.name: s for s in SETTINGS}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in scalars:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise PumpqiError(f"{p.name}: '{key}' must be a number >= 0")
            changes[key] = type(scalars[key].default)(value)
        elif key in ("stability_caps", "model_alarm_ml"):
            if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in value.values()
            ):
                raise PumpqiError(f"{p.name}: [{key}] must map names to numbers >= 0")
            merged = dict(getattr(DEFAULT, key))
            merged.update(
                {
                    str(k).lower(): (int(v) if key == "stability_caps" else float(v))
                    for k, v in value.items()
                }
            )
            changes[key] = merged
        else:
            raise PumpqiError(f"{p.name}: unknown setting '{key}' (see `pumpqi config`)")
    return replace(DEFAULT, **changes)
