"""X's weighted length: URLs 23, CJK and emoji 2, the ticket link reserved."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

from twitter_channel.x.text_length import TWEET_LIMIT, appended, link_weight, weighted_length


def test_plain_latin_text_counts_one_per_character():
    assert weighted_length("Thanks, we're on it — café") == 26


def test_any_url_counts_23():
    short = "see https://x.co/a"
    long = "see https://help.example.com/" + "a" * 200

    assert weighted_length(short) == weighted_length(long) == 4 + 23


def test_cjk_and_emoji_count_two():
    assert weighted_length("日本語") == 6
    assert weighted_length("👍") == 2
    # A family emoji is one sequence of seven code points: still 2.
    assert weighted_length("👨\u200d👩\u200d👧\u200d👦") == 2


def test_280_latin_characters_fit_and_281_do_not():
    assert weighted_length("a" * TWEET_LIMIT) == TWEET_LIMIT
    assert weighted_length("a" * (TWEET_LIMIT + 1)) > TWEET_LIMIT


def test_appending_a_ticket_link_adds_a_space_and_23():
    link = "https://help.example.com/t/3x.1kQd9Z.aVeryLongSignatureThatXShortensAnyway"
    assert appended("Thanks!  ", link) == f"Thanks! {link}"
    assert link_weight(link) == 24
    assert weighted_length(appended("Thanks!", link)) == 7 + 24


def test_a_link_x_does_not_recognise_weighs_its_characters():
    # twitter-text does not link bare IP addresses: X counts them as text.
    link = "http://127.0.0.1:8000/t/abc"
    assert link_weight(link) == 1 + len(link)


def test_text_length_imports_without_pkg_resources():
    """twitter-text-parser 3.0.0 imports pkg_resources, which venvs on Python 3.12+ and
    setuptools 81+ no longer have; the helpdesk must start there all the same."""
    code = (
        "import sys; sys.modules['pkg_resources'] = None  # as if setuptools were absent\n"
        "from twitter_channel.x.text_length import weighted_length\n"
        "print(weighted_length('caf\\u00e9 \\U0001F600 https://example.com/a/long/path'), 'pkg_resources' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=settings.BASE_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["31", "False"]  # "café " 5, emoji 2, space 1, URL 23; the stand-in gone again


def test_only_text_length_imports_twitter_text():
    # Importing twitter_text needs text_length's stand-in on Python 3.12+: a module importing
    # it directly breaks the helpdesk there whenever it happens to be imported first.
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    offenders = [
        str(path.relative_to(root)) for path in root.glob("*/**/*.py")
        if not any(part.startswith(".") for part in path.relative_to(root).parts)  # .venv*, .git
        and path.name != "text_length.py" and "tests" not in path.parts
        and any(line.lstrip().startswith(("import twitter_text", "from twitter_text"))
                for line in path.read_text(encoding="utf-8").splitlines())
    ]
    assert offenders == []
