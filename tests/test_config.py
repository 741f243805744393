"""The configuration is declared once: every declaration is a Config field with that
default, every field is declared, and a TOML file overrides each kind of setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from analytics.config import (
    DEFAULT,
    LISTS,
    MAPS,
    SETTINGS,
    config_field_names,
    declared_names,
    load_config,
)
from analytics.errors import PumpqiError


def test_every_declared_setting_is_a_field_and_back() -> None:
    assert sorted(declared_names()) == sorted(config_field_names())


@pytest.mark.parametrize("setting", [*SETTINGS, *MAPS, *LISTS], ids=lambda s: s.name)
def test_field_default_is_the_declared_default(setting) -> None:
    value = getattr(DEFAULT, setting.name)
    expected = dict(setting.default) if isinstance(value, dict) else setting.default
    assert value == expected


def test_each_setting_is_in_the_printed_table() -> None:
    names = {row[0].split(".")[0] for row in DEFAULT.table()}
    assert names == set(declared_names())


def test_toml_overrides_scalars_maps_and_lists(tmp_path: Path) -> None:
    f = tmp_path / "site.toml"
    f.write_text(
        "grace_days = 3\nziconotide_vial_mg_ml = [0.05]\n"
        "[stability_caps]\nBaclofen = 150\n[model_alarm_ml]\nprometra = 4\n"
    )
    cfg = load_config(f)
    assert cfg.grace_days == 3 and isinstance(cfg.grace_days, int)
    assert cfg.stability_caps["baclofen"] == 150 and cfg.stability_caps["morphine"] == 90
    assert cfg.model_alarm_ml["prometra"] == 4.0
    assert cfg.ziconotide_vial_mg_ml == (0.05,)
    assert dataclasses.replace(DEFAULT, grace_days=3).grace_days == 3
    assert DEFAULT.stability_caps["baclofen"] == 180, "defaults are never changed in place"


@pytest.mark.parametrize(
    "text, words",
    [
        ("nonsense = 1", "unknown setting 'nonsense'"),
        ("grace_days = -1", "'grace_days' must be a number >= 0"),
        ("[stability_caps]\nbaclofen = 'x'", "[stability_caps] must map"),
        ("ziconotide_vial_mg_ml = 0.1", "must be a list of numbers"),
    ],
)
def test_bad_settings_are_refused_in_one_line(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "site.toml"
    f.write_text(text)
    with pytest.raises(PumpqiError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_config(f)
