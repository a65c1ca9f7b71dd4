"""One Python, 3.11, from pyproject to the laptop to Lambda: make refuses another in one line, and so does
``make package`` (chalice would otherwise declare and bundle for the interpreter running it)."""
from __future__ import annotations

import re
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from infra.package import PYTHON_VERSION, RUNTIME, WrongPythonError, check_interpreter, pin_runtime

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_makefile_and_lambda_runtime_name_the_same_python():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    makefile = re.search(r"^PYTHON_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert (requires, makefile, PYTHON_VERSION, RUNTIME) == (">=3.11,<3.12", "3.11", "3.11", "python3.11")


def fake_python(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"python{version}"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)


def test_make_refuses_another_python_in_one_line(tmp_path):
    python = fake_python(tmp_path, "3.12")
    result = make("run", f"PYTHON={python}", f"VENV={tmp_path / 'venv'}")
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert f"Linli needs Python 3.11 (found 3.12 at {python}): install python3.11" in line


def test_make_refuses_a_venv_made_by_another_python(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(fake_python(tmp_path, "3.12"))
    result = make("test", f"VENV={venv}", f"PYTHON={fake_python(tmp_path, '3.11')}")
    [line] = result.stderr.strip().splitlines()
    assert "Linli needs Python 3.11" in line and "was made with Python 3.12): run make clean" in line


def test_make_goes_ahead_with_311_and_clean_needs_no_python(tmp_path):
    assert make("run", f"PYTHON={fake_python(tmp_path, '3.11')}", f"VENV={tmp_path / 'venv'}").returncode == 0
    assert make("clean", f"PYTHON={fake_python(tmp_path, '3.12')}", f"VENV={tmp_path / 'venv'}").returncode == 0


def test_packaging_refuses_another_interpreter_and_pins_every_runtime():
    with pytest.raises(WrongPythonError, match=r"python3\.11 \(Lambda runtime\); this is Python 3\.12"):
        check_interpreter((3, 12, 1, "final", 0))
    check_interpreter((3, 11, 7, "final", 0))
    template = {"Resources": {"Api": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12"}},
                              "Raw": {"Type": "AWS::Lambda::Function", "Properties": {}},
                              "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    assert pin_runtime(template) == ["Api", "Raw"]
    assert [r["Properties"].get("Runtime") for r in template["Resources"].values()] == ["python3.11", "python3.11",
                                                                                         None]
