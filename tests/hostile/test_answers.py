"""Every case of the corpus through every path: load and store sync over HTTP, import from
a file, verify after each write (see :mod:`tests.hostile.corpus`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FixtureServer, fixture_server
from tests.hostile.corpus import CASES, Case
from tests.hostile.run import check, check_in_child, serve_corpus


def _params() -> Iterator[object]:
    for case in CASES:
        for path in case.paths:
            marks = [pytest.mark.slow] if case.child else []
            yield pytest.param(case, path, id=f"{case.name}-{path}", marks=marks)


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    """One server for the module: each case is asked for a day of its own."""
    with fixture_server(serve_corpus) as s:
        yield s


def test_the_corpus_is_at_least_forty_cases_with_unique_names() -> None:
    names = [c.name for c in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)


@pytest.mark.parametrize(("case", "path"), list(_params()))
def test_a_hostile_answer_ends_in_data_or_a_named_error(
    case: Case, path: str, server: FixtureServer, tmp_path: Path
) -> None:
    if case.child:
        done = check_in_child(case, path, tmp_path)
        assert done.returncode >= 0, f"killed by signal {-done.returncode}: {done.stderr[-800:]}"
        assert done.returncode == 0 and "checked" in done.stdout, done.stderr[-1500:]
    else:
        check(case, path, server.url, tmp_path)
