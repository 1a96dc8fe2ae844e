"""The channels' real payloads (tests/fixtures/channels, one file per format) and a check that
a body has their shape. The repository carries every fixture it tests with."""

import json
from pathlib import Path

CHANNEL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "channels"


def sample(name: str, folder: str = "outbound") -> dict:
    return json.loads((CHANNEL_FIXTURES / folder / name).read_text())


def assert_same_shape(actual, expected, where="body"):
    """Same keys at every level, same nesting, same JSON types (bool is not int)."""
    assert type(actual) is type(expected), f"{where}: {type(actual).__name__}"
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)}"
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert actual, f"{where}: empty list"
        for index, item in enumerate(actual):
            assert_same_shape(item, expected[0], f"{where}[{index}]")
