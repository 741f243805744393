"""Metric configuration, declared once as data: every setting with its default and help.

A site may override any setting with a TOML file (`--config FILE`):

    grace_days = 3
    ziconotide_vial_mg_ml = [0.025, 0.1]
    [stability_caps]
    baclofen = 150
    [model_alarm_ml]
    prometra = 3.0

`pumpqi config` prints the effective configuration; the Definitions page shows it.
The defaults are written once, in SETTINGS and MAPS below; the `Config` fields take
them from there (a test checks that every declaration is a field and back).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from analytics.errors import PumpqiError

MIN_THRESHOLD = 5
"""The lowest small-cell suppression threshold: below 5 a mark gives the count away (a
'<3' beside its row total '<3' can only be 1 and 1)."""


@dataclass(frozen=True)
class Setting:
    """One scalar setting: name, default and the help text shown everywhere."""

    name: str
    default: float | int
    help: str


@dataclass(frozen=True)
class MapSetting:
    """A table of values by drug or pump-model pattern (a TOML table)."""

    name: str
    default: Mapping[str, float]
    key: str  # what the keys are: "drug" or "model pattern"
    unit: str
    help: str
    integer: bool = False


@dataclass(frozen=True)
class ListSetting:
    """A list of numbers (a TOML array)."""

    name: str
    default: tuple[float, ...]
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
        "stability cap of ziconotide on a new pump's first fill (implant, replacement)",
    ),
    Setting(
        "ziconotide_undiluted_cap_days",
        84,
        "stability cap of undiluted ziconotide (concentration equal to a vial strength) after "
        "the first fill; diluted ziconotide takes stability_caps.ziconotide",
    ),
    Setting(
        "default_cap_days",
        90,
        "stability cap of any drug not listed (fentanyl, sufentanil, unknown, ...)",
    ),
    Setting("worklist_days", 14, "the worklist shows fills due within this many days"),
    Setting("suppress_below", 11, "small-cell suppression threshold for outputs shared outside"),
    Setting(
        "event_merge_days",
        30,
        "reports of the same patient and code within this many days of the previous report "
        "are merged into an event (chained)",
    ),
    Setting(
        "eri_warning_days",
        90,
        "the elective-replacement warning comes this many days before a battery's end of life",
    ),
    Setting("dose_step_up_pct", 50, "a dose step up of more than this % is flagged"),
    Setting("default_risk_class", 3, "worklist risk class of a drug not listed in risk_class"),
)

MAPS: tuple[MapSetting, ...] = (
    MapSetting(
        "stability_caps",
        {"baclofen": 180, "morphine": 90, "hydromorphone": 90, "ziconotide": 40},
        "drug",
        "days",
        "maximum refill interval (drug stability); ziconotide: diluted, after the first fill",
        integer=True,
    ),
    MapSetting(
        "model_alarm_ml",
        {"prometra": 3.0, "synchromed": 2.0},
        "model pattern",
        "mL",
        "alarm volume of a pump model whose name contains the pattern (any case)",
    ),
    MapSetting(
        "battery_life_months",
        {"synchromed": 84},
        "model pattern",
        "months",
        "battery life of a pump model whose name contains the pattern (end of life)",
        integer=True,
    ),
    MapSetting(
        "dose_max_mg_day",
        {"morphine": 15, "hydromorphone": 10, "ziconotide": 0.0192, "clonidine": 0.6},
        "drug",
        "mg/day",
        "a fill whose daily dose is above this is flagged (confirm against local policy)",
    ),
    MapSetting(
        "concentration_max_mg_ml",
        {"morphine": 20, "hydromorphone": 15, "ziconotide": 0.1, "clonidine": 1, "bupivacaine": 30},
        "drug",
        "mg/mL",
        "a fill whose concentration is above this is flagged (confirm against local policy)",
    ),
    MapSetting(
        "risk_class",
        {
            "baclofen": 1,
            "morphine": 2,
            "hydromorphone": 2,
            "fentanyl": 2,
            "sufentanil": 2,
            "clonidine": 2,
        },
        "drug",
        "class",
        "worklist order: 1 first (abrupt withdrawal can be fatal), 2 withdrawal syndrome; "
        "a mixture takes the highest class of its parts",
        integer=True,
    ),
)

LISTS: tuple[ListSetting, ...] = (
    ListSetting(
        "ziconotide_vial_mg_ml",
        (0.025, 0.1),
        "supplied vial strengths of ziconotide (mg/mL): a fill at any of these strengths is undiluted",
    ),
)

DOSE_SOURCES: dict[str, str] = {
    "morphine": "Polyanalgesic Consensus Conference 2012 (Deer et al., Neuromodulation 2012)",
    "hydromorphone": "Polyanalgesic Consensus Conference 2012",
    "clonidine": "Polyanalgesic Consensus Conference 2012",
    "bupivacaine": "Polyanalgesic Consensus Conference 2012",
    "ziconotide": "Prialt product label (maximum 19.2 mcg/day; vials of 25 and 100 mcg/mL)",
}
"""Where each default dose or concentration maximum comes from (Definitions page)."""

_ALL: dict[str, Setting | MapSetting | ListSetting] = {
    **{s.name: s for s in SETTINGS},
    **{s.name: s for s in MAPS},
    **{s.name: s for s in LISTS},
}


def _d(name: str) -> Any:
    """The declared default of a setting (dataclass field default or factory)."""
    s = _ALL[name]
    if isinstance(s, MapSetting):
        default = s.default
        return field(default_factory=lambda: dict(default))
    return s.default


@dataclass(frozen=True)
class Config:
    """The effective metric configuration (defaults: SETTINGS, MAPS, LISTS)."""

    grace_days: int = _d("grace_days")
    early_days: int = _d("early_days")
    residual_tolerance_ml: float = _d("residual_tolerance_ml")
    default_alarm_ml: float = _d("default_alarm_ml")
    ziconotide_first_fill_cap_days: int = _d("ziconotide_first_fill_cap_days")
    ziconotide_undiluted_cap_days: int = _d("ziconotide_undiluted_cap_days")
    default_cap_days: int = _d("default_cap_days")
    worklist_days: int = _d("worklist_days")
    suppress_below: int = _d("suppress_below")
    event_merge_days: int = _d("event_merge_days")
    eri_warning_days: int = _d("eri_warning_days")
    dose_step_up_pct: float = _d("dose_step_up_pct")
    default_risk_class: int = _d("default_risk_class")
    stability_caps: dict[str, int] = _d("stability_caps")
    model_alarm_ml: dict[str, float] = _d("model_alarm_ml")
    battery_life_months: dict[str, int] = _d("battery_life_months")
    dose_max_mg_day: dict[str, float] = _d("dose_max_mg_day")
    concentration_max_mg_ml: dict[str, float] = _d("concentration_max_mg_ml")
    risk_class: dict[str, int] = _d("risk_class")
    ziconotide_vial_mg_ml: tuple[float, ...] = _d("ziconotide_vial_mg_ml")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        """A short hash of the effective configuration, for report manifests."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def table(self) -> list[tuple[str, str, str]]:
        """(setting, value, meaning) rows for `pumpqi config` and the definitions page."""
        rows = [(s.name, str(getattr(self, s.name)), s.help) for s in SETTINGS]
        for ls in LISTS:
            values = ", ".join(f"{v:g}" for v in getattr(self, ls.name))
            rows.append((ls.name, values, ls.help))
        for ms in MAPS:
            for key, value in sorted(getattr(self, ms.name).items()):
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                rows.append((f"{ms.name}.{key}", shown, f"{ms.help} ({ms.unit}; by {ms.key})"))
        return rows


DEFAULT = Config()


def declared_names() -> tuple[str, ...]:
    """Every setting's name, in declaration order (tests tie these to Config's fields)."""
    return tuple(_ALL)


def config_field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Config))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


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
    changes: dict[str, Any] = {}
    for key, value in data.items():
        s = _ALL.get(key)
        if isinstance(s, Setting):
            if not _number(value):
                raise PumpqiError(f"{p.name}: '{key}' must be a number >= 0")
            if key == "suppress_below" and value < MIN_THRESHOLD:
                raise PumpqiError(f"{p.name}: 'suppress_below' must be at least {MIN_THRESHOLD}")
            changes[key] = type(s.default)(value)
        elif isinstance(s, MapSetting):
            if not isinstance(value, dict) or not all(_number(v) for v in value.values()):
                raise PumpqiError(f"{p.name}: [{key}] must map names to numbers >= 0")
            merged = dict(getattr(DEFAULT, key))
            cast = int if s.integer else float
            merged.update({str(k).lower(): cast(v) for k, v in value.items()})
            changes[key] = merged
        elif isinstance(s, ListSetting):
            if not isinstance(value, list) or not all(_number(v) for v in value):
                raise PumpqiError(f"{p.name}: '{key}' must be a list of numbers >= 0")
            changes[key] = tuple(float(v) for v in value)
        else:
            raise PumpqiError(f"{p.name}: unknown setting '{key}' (see `pumpqi config`)")
    return replace(DEFAULT, **changes)
