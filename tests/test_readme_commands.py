"""The READMEs' command lines work exactly as written, after the two set-up commands.

Every line of every ```bash block of README.md and dashboards/README.md is run, as
written, in a shell whose PATH is the system's only (no ~/.local/bin, where make puts
uv), in a temporary folder holding what the lines expect: a raw visits export
(`raw_visits.xlsx`) and complications export (`raw_complications.csv`) made from the
synthetic data set, and the README's own TOML block as `site.toml`. The activation line
is run in the repository, as the README says; every other line in the folder.

Lines are of three kinds, and a line of no kind fails the test (so that a new README
line cannot go untested):
* the set-up commands `make demo` and `make test`: not run here (`make test` is what runs
  this test; `make demo` is `pumpqi demo`, run below);
* `. .venv/bin/activate`;
* `pumpqi ...`: run, and must exit 0. `pumpqi dashboard` and `pumpqi demo` serve until
  stopped: they must get as far as announcing the address (data checked, database
  readable), then are stopped. Consecutive `pumpqi report` lines run side by side (they
  only read the database), to keep the test quick.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from analytics.synth import generate, write

ROOT = Path(__file__).resolve().parents[1]
READMES = (ROOT / "README.md", ROOT / "dashboards" / "README.md")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SETUP = ("make demo", "make test")
ACTIVATE = ". .venv/bin/activate"
SERVERS = ("pumpqi dashboard", "pumpqi demo")
SERVING = "pumpqi dashboard on http://127.0.0.1:"
TOGETHER = "pumpqi report "
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(text: str, lang: str) -> list[str]:
    """The fenced code blocks of `text` whose info string is `lang`."""
    return [body for info, body in FENCE.findall(text) if info == lang]


def command_lines(block: str) -> list[str]:
    """The command lines of a shell block: continuations joined, comments and blanks out."""
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        code = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
        if code:
            out.append(re.sub(r"\s+", " ", code))
    return out


def readme_commands() -> list[tuple[str, str]]:
    """(README name, command line) for every ```bash line of the READMEs, in order."""
    return [
        (path.relative_to(ROOT).as_posix(), line)
        for path in READMES
        for block in blocks(path.read_text(encoding="utf-8"), "bash")
        for line in command_lines(block)
    ]


def test_command_lines_are_read_as_a_user_reads_them() -> None:
    block = '# a comment\npumpqi one --a 1   # says what\n\npumpqi two --b \\\n    --c "x y"\n'
    assert command_lines(block) == ["pumpqi one --a 1", 'pumpqi two --b --c "x y"']
    text = "intro\n```bash\npumpqi x\n```\n```toml\na = 1\n```\n"
    assert blocks(text, "bash") == ["pumpqi x\n"] and blocks(text, "toml") == ["a = 1\n"]


def test_every_readme_line_is_of_a_known_kind() -> None:
    lines = readme_commands()
    assert len(lines) >= 20
    kinds = [line in SETUP or line == ACTIVATE or line.startswith("pumpqi ") for _, line in lines]
    assert all(kinds), [line for (_, line), k in zip(lines, kinds, strict=True) if not k]
    assert [line for _, line in lines if line in SETUP] == list(SETUP)
    # the activation comes first in each README, before its first pumpqi line
    for name in {n for n, _ in lines}:
        mine = [line for n, line in lines if n == name and line not in SETUP]
        assert mine[0] == ACTIVATE, name
    assert not any("uv run" in line for _, line in lines)


def _env() -> dict[str, str]:
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["BROWSER"] = "true"  # `pumpqi demo` opens a browser tab: here, a command that does nothing
    return env


def _shell(line: str, work: Path) -> list[str]:
    script = f'cd "{ROOT}" && {ACTIVATE} && cd "{work}" && {line}'
    return ["bash", "--noprofile", "--norc", "-c", script]


def _prepare(work: Path) -> None:
    """What the README's lines expect in the user's folder, from synthetic data."""
    source = work / "synthetic"
    write(generate(patients=60, years=2, seed=23, start=pd.Timestamp("2024-11-01").date()), source)
    visits = pd.read_csv(source / "visits.csv", dtype=str, keep_default_na=False)
    raw = visits.rename(columns={"patient_id": "MRN"})
    raw.insert(1, "Patient Name", "Test Person")
    raw.to_excel(work / "raw_visits.xlsx", index=False)
    comp = pd.read_csv(source / "complications.csv", dtype=str, keep_default_na=False)
    comp.rename(columns={"patient_id": "MRN"}).to_csv(work / "raw_complications.csv", index=False)
    (toml,) = blocks((ROOT / "README.md").read_text(encoding="utf-8"), "toml")
    (work / "site.toml").write_text(toml, encoding="utf-8")


def _serve(line: str, work: Path, timeout: float = 90) -> str:
    """Start a serving line; once it announces its address (its checks passed), stop it."""
    proc = subprocess.Popen(
        _shell(line, work),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    said = []
    deadline = time.monotonic() + timeout
    try:
        assert proc.stderr is not None
        for text in proc.stderr:
            said.append(text)
            if text.startswith(SERVING) or time.monotonic() > deadline:
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = "".join(said)
    assert SERVING in out, f"`{line}` did not start serving:\n{out}"
    return out


def _batches(lines: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Lines run one after the other, except consecutive reports (they only read the
    database and write their own folder), which run side by side to save time."""
    out: list[list[tuple[str, str]]] = []
    for item in lines:
        if out and item[1].startswith(TOGETHER) and out[-1][-1][1].startswith(TOGETHER):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def test_readme_command_lines_work_as_written(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv in the repository: the README's set-up (`make test`) makes it")
    work = tmp_path / "clinic"
    work.mkdir()
    _prepare(work)
    lines = [(n, line) for n, line in readme_commands() if line not in SETUP and line != ACTIVATE]
    for batch in _batches(lines):
        if batch[0][1].startswith(SERVERS):
            _serve(batch[0][1], work)
            continue
        running = [
            (name, line, subprocess.Popen(_shell(line, work), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            for name, line in batch
        ]  # fmt: skip
        for name, line, proc in running:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, f"{name}: `{line}` exited {proc.returncode}:\n{err}"
    # what the lines were meant to make
    assert {"visits.csv", "complications.csv", "pumps.duckdb", "metrics.csv"} <= {
        p.name for p in work.iterdir()
    }
    assert len(list((work / "reports").iterdir())) == 3
    assert all("-shared" in p.name for p in (work / "shared").iterdir())
    assert (work / "demo-data" / "demo.duckdb").is_file()


def test_a_missing_activation_is_what_fails(tmp_path: Path) -> None:
    """The shell really has only the system PATH: without the activation line, the
    README's commands are not found (as on a fresh machine)."""
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "command -v uv; command -v pumpqi"],
        env=_env(),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ".local/bin" not in done.stdout and ".venv" not in done.stdout
