"""The project reads nothing outside its own repository: a clone with nothing beside it
runs, tests and benchmarks (bin/check_repository_boundary.py, also run by `make lint`)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "check_repository_boundary", ROOT / "bin" / "check_repository_boundary.py"
)
boundary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(boundary)


def test_no_project_file_reads_outside_the_repository():
    assert boundary.offending_lines() == []


SIBLING = "sha" + "red"  # spelled in two parts so this file never reads as a sibling path


@pytest.mark.parametrize(
    "line",
    [
        f'SAMPLES = Path(__file__).resolve().parents[2] / "{SIBLING}/samples"',
        f'SAMPLE = Path(settings.BASE_DIR).parent / "{SIBLING}" / "samples" / "x.json"',  # boundary: example
        f'open("../{SIBLING}/samples/orders/amazon_order.json")',
        'root = Path(settings.BASE_DIR).parent / "elsewhere"',  # boundary: example
    ],
)
def test_the_check_recognises_reads_beside_the_checkout(line):
    assert boundary.OUTSIDE_READS.search(line)


@pytest.mark.parametrize(
    "line",
    [
        'CHANNEL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "channels"',
        "from celery import shared_task",
        "shared = through.objects.filter(location__in=nodes)",
    ],
)
def test_the_check_leaves_ordinary_code_alone(line):
    assert not boundary.OUTSIDE_READS.search(line)


def test_every_channel_fixture_the_tests_name_is_in_the_repository():
    fixtures = ROOT / "tests" / "fixtures" / "channels"
    for folder in ("orders", "outbound", "returns", "settlements"):
        assert any((fixtures / folder).iterdir()), folder
    assert (ROOT / "orders" / "benchmarks" / "payloads" / "shopify_order.json").is_file()
