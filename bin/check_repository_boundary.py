#!/usr/bin/env python3
"""Refuse code that reads files outside the repository (e.g. a samples folder beside a
developer's checkout). A clone with nothing beside it must run, test and benchmark: every
fixture lives under `tests/fixtures/`, every benchmark payload beside its benchmark.

Exit 1 and list each offending line. Documentation (*.md) may cite outside material."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED_SUFFIXES = {".py", ".html", ".js", ".toml", ".cfg", ".ini", ".sh", ".txt", ".json", ""}
OUTSIDE_READS = re.compile(
    # [h] keeps these patterns from matching themselves when the tree is searched.
    r"""\.\./s[h]ared"""  # a "shared" folder beside the checkout
    r"""|["']s[h]ared/samples"""  # its samples joined to a parent path
    r"""|["']s[h]ared["']\s*/"""  # … / "shared" / …
    r"""|BASE_DIR\)?\s*\.parent\b"""  # anything beside the project folder
    r"""|parents\[\d+\]\s*/\s*["']s[h]ared"""
)
SELF = Path(__file__).resolve()
# A line quoted as an example of what the check refuses (its own tests) carries this mark.
EXAMPLE_MARK = "boundary: example"


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return [ROOT / name for name in listed if name]


def offending_lines() -> list[str]:
    found = []
    for path in tracked_files():
        if path.resolve() == SELF or path.suffix not in CHECKED_SUFFIXES or not path.is_file():
            continue
        if "fixtures" in path.parts:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_READS.search(line) and EXAMPLE_MARK not in line:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def main() -> int:
    found = offending_lines()
    for line in found:
        print(f"reads outside the repository: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
