"""The public API: one front door with a complete, sorted ``__all__``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wxframe


def test_all_is_sorted_and_importable() -> None:
    names = [n for n in wxframe.__all__ if n != "__version__"]
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in wxframe.__all__:
        assert hasattr(wxframe, name), name


def test_every_public_name_of_the_modules_is_exported() -> None:
    from wxframe import client, errors, loaders, store

    for module in (client, errors, loaders, store):
        # errors.py also holds the argument check every module uses, the window's type and
        # how messages spell an argument (Python or the command line's flags)
        internal = {
            "check_count",
            "WindowLike",
            "argument",
            "command_line",
            "most_urgent",
            "ERROR_CLASSES",
        }
        missing = set(module.__all__) - set(wxframe.__all__) - internal
        assert not missing, (module.__name__, missing)


def test_import_is_light() -> None:
    code = "import sys, wxframe; print('matplotlib' in sys.modules, 'tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_import_wxframe_gives_datasets_simulator_and_a_version() -> None:
    code = (
        "import wxframe; print(wxframe.datasets.api_example('getbizsummary')['list'][0]"
        "['ref_date'], wxframe.simulator.serve.__name__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["2025-11-01", "serve"]
    version = subprocess.run(
        [sys.executable, "-m", "wxframe", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"wxframe {wxframe.__version__}"
