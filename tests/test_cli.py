"""``ghara``: one console entry point, each sub-command the job's own ``main``."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from model.cli import COMMANDS, main

from fixtures_model import REPO


def test_every_command_names_an_importable_main() -> None:
    for name, (module, _) in COMMANDS.items():
        assert callable(importlib.import_module(module).main), name


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: ghara COMMAND" in capsys.readouterr().out


def test_unknown_command_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trian"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown command 'trian'") and "\n" not in err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_has_help(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "model.cli", command, "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_evaluate_refuses_to_replace_a_report(tmp_path) -> None:
    out = tmp_path / "report.json"
    out.write_text("{}")
    done = subprocess.run(
        [sys.executable, str(REPO / "evaluate.py"), "--model", "x", "--data", "y.json", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "exists; pass --overwrite" in done.stderr
    assert out.read_text() == "{}"
