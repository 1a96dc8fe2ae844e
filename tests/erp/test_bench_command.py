"""`manage.py bench`: the headline figure comes last, after every registered check."""

from io import StringIO

import pytest
from django.core.management import call_command

from erp import benchmarks


@pytest.fixture
def tiny_bench():
    @benchmarks.register_benchmark("tiny", "a benchmark for the command's own test")
    def run(out, **options):
        out.write("seeded nothing")
        return 42, "things/s"

    yield "tiny"
    benchmarks._registry.pop("tiny", None)


@pytest.fixture
def check():
    verdict = {"clean": True}

    def books():
        return ["books: figures"], verdict["clean"]

    benchmarks.register_after_benchmark_check(books)
    yield verdict
    benchmarks._checks.remove(books)


def test_checks_print_before_the_figure_and_say_when_they_fail(db, tiny_bench, check):
    out = StringIO()
    call_command("bench", tiny_bench, stdout=out)
    assert out.getvalue().splitlines()[-2:] == ["books: figures", "tiny: 42 things/s"]

    check["clean"] = False
    out = StringIO()
    call_command("bench", tiny_bench, stdout=out)
    lines = out.getvalue().splitlines()
    assert "FAILED after tiny: books: figures" in lines
    assert lines[-1] == "tiny: 42 things/s"


def test_finance_checks_the_books_after_every_benchmark(db):
    names = [check.__name__ for check in benchmarks.after_benchmark_checks()]
    assert "books_agree" in names
