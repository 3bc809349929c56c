"""The installable package: the wheel holds the app, the presets, the offline MNIST sample, the catalogue and the
canvas bundle, and its `kfs` command works from a folder outside the repository (built and installed offline)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARE = "keras_functional_studio-0.16.0.data/data/share/keras-functional-studio"
SOURCES = ("pyproject.toml", "README.md", "requirements.txt", "app.py", "studio", "pages", "components", "presets")
IGNORED = shutil.ignore_patterns("node_modules", "__pycache__", "*.pyc", "src", "package*.json", "*.sh", ".lock")


def _tracked_app_files() -> set[str]:
    """What the app needs at run time, as paths under the share folder."""
    files = {"app.py"}
    for pattern in ("pages/*.py", "presets/*.json", "components/**/*.py", "components/builder/canvas_frontend/build/*"):
        files |= {str(path.relative_to(ROOT)) for path in ROOT.glob(pattern) if "node_modules" not in path.parts}
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline (no build isolation) from a copy of the sources, so the checkout stays clean."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=IGNORED)
        else:
            shutil.copy2(origin, source / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_the_app_the_data_and_the_catalogue(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = {path for path in _tracked_app_files() if f"{SHARE}/{path}" not in names}
    assert not missing, f"app files missing from the wheel (add their folder to [tool.setuptools.data-files]): {sorted(missing)}"
    for inside in ("studio/data/mnist_5k.npz", "studio/locale/zh/LC_MESSAGES/messages.mo", "studio/cli/main.py", "studio/paths.py"):
        assert inside in names
    assert not any(name.startswith(("tests/", "bench/", "components/", "pages/")) for name in names), "only studio is a top-level package"
    entry_points = zipfile.ZipFile(wheel).read("keras_functional_studio-0.16.0.dist-info/entry_points.txt").decode()
    assert "kfs = studio.cli.main:main" in entry_points


def test_the_kfs_command_runs_from_a_folder_outside_the_repository(wheel, tmp_path):
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)]
    result = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "STUDIO_OFFLINE": "1", "LANG": "C.UTF-8"}
    where = subprocess.run(
        [sys.executable, "-c", "import studio.paths as p; print(p.__file__); print(p.app_script()); print(p.presets_dir())"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    module, script, presets = where.stdout.split()
    for path in (module, script, presets):
        assert Path(path).is_relative_to(target), f"{path} is not from the installed wheel"
    assert Path(script).is_file()
    listing = subprocess.run([str(target / "bin" / "kfs"), "presets"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert listing.returncode == 0, listing.stderr[-3000:]
    assert "mnist_mlp" in listing.stdout and "vgg16_features" in listing.stdout
