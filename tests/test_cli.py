"""The command line: one-line usage errors, help with examples, exit codes (CLI.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from analytics.cli.commands import main


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["metrics", "--db", "x.duckdb", "--by", "ward"], "Invalid value for '--by'"),
        (["metrics"], "Missing option '--db'"),
        (["no-such-command"], "No such command"),
        (["refills", "--db", "x.duckdb", "--bogus"], "No such option"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], needle: str) -> None:
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert (
        res.stderr.count("\n") == 1 and needle in res.stderr and res.stderr.startswith("pumpqi: ")
    )
    assert "Traceback" not in res.output


def test_every_command_has_help_with_an_example() -> None:
    for name, command in main.commands.items():
        res = CliRunner().invoke(main, [name, "--help"])
        assert res.exit_code == 0, name
        assert "Example" in res.stdout, f"`pumpqi {name} --help` shows no example"
        assert command.help, name


def test_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "analytics.cli.commands", "--version"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "version" in out.stdout
