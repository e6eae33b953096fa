"""`make test` runs every app's tests: an app left out of pytest.ini's testpaths never runs."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_folder_with_tests_is_in_testpaths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    testpaths = set(config["pytest"]["testpaths"].split())
    folders_with_tests = {
        path.parent.name
        for path in ROOT.glob("*/tests")
        if path.is_dir() and any(path.glob("test_*.py"))
    }

    assert folders_with_tests - testpaths == set()
