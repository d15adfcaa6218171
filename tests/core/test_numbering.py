"""Document numbers (文号): one series per region and year, no gaps, no duplicates under
concurrent writers, a rolled-back document gives its number back."""
from __future__ import annotations

import threading

import pytest

from core.api import db, format_number, next_number


def test_numbers_run_per_series_region_and_year(org):
    a, b = org["a"], org["b"]
    assert [next_number("suggestion", a, 2026) for _ in range(3)] == [1, 2, 3]
    assert next_number("suggestion", b, 2026) == 1
    assert next_number("suggestion", a, 2027) == 1
    assert next_number("notice", a.id, 2026) == 1
    assert next_number("suggestion", a, 2026) == 4


def test_a_rolled_back_document_gives_its_number_back(org):
    a = org["a"]
    assert next_number("letter", a, 2026) == 1
    with pytest.raises(RuntimeError), db.atomic():
        assert next_number("letter", a, 2026) == 2
        raise RuntimeError("the document failed to save")
    assert next_number("letter", a, 2026) == 2


@pytest.mark.parametrize("bad", [("", 2026), ("x" * 65, 2026), ("ok", 1899), ("ok", 10000)])
def test_bad_series_or_year_is_refused(org, bad):
    with pytest.raises(ValueError):
        next_number(bad[0], org["a"], bad[1])


def test_concurrent_writers_never_share_a_number(app, org):
    """Eight threads, each on its own connection, take 25 numbers each."""
    region_id, got, errors = org["a"].id, [], []
    lock = threading.Lock()

    def work():
        try:
            with app.app_context(), db.connection_context():
                for _ in range(25):
                    with db.atomic():
                        n = next_number("race", region_id, 2026)
                    with lock:
                        got.append(n)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(1, 201))


def test_format_number_is_the_official_form():
    assert format_number("锦纪建", 2026, 7) == "锦纪建〔2026〕7号"
