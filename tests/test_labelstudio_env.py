"""The Label Studio venv cache is tied to the pinned requirements file it was built from."""

from __future__ import annotations

from pathlib import Path

from conftest import LS_REQUIREMENTS, _stamp, _works, requirements_hash


def _fake_venv(root: Path, stamp: str | None) -> Path:
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/label-studio").write_text("#!/bin/sh\n")
    (venv / "bin/python").symlink_to("/usr/bin/env")  # never reached when the stamp is wrong
    if stamp is not None:
        _stamp(venv).write_text(stamp + "\n")
    return venv


def test_requirements_pin_label_studio_and_sentry_below_3() -> None:
    pins = dict(
        line.split("==", 1) for line in LS_REQUIREMENTS.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert pins["label-studio"] == "1.23.2"
    assert int(pins["sentry-sdk"].split(".")[0]) < 3


def test_a_venv_built_from_other_requirements_is_stale(tmp_path: Path) -> None:
    assert not _works(_fake_venv(tmp_path / "a", stamp="0" * 64), requirements_hash())


def test_a_venv_without_a_stamp_is_stale(tmp_path: Path) -> None:
    assert not _works(_fake_venv(tmp_path / "b", stamp=None), requirements_hash())
