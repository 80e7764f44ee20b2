"""Check that the installed dependencies are at least the versions tested here.

    python scripts/check_deps.py [EXTRA ...]        # e.g. local test; exit 1 on any failure

Reads the lower bounds of ``[project].dependencies`` (and of the extras named) in
pyproject.toml — they are the versions tested — and compares each with the version
installed (``importlib.metadata``). Fails when a package is missing or below its floor.
CI runs it after installing (``.ci/run``), next to the check that pip resolved the
dependencies without backtracking (``scripts/check_resolve.sh``).
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")


def _key(version: str) -> tuple[int, ...]:
    """A comparable key for a release version (``2.14.4``, ``2026.10.11549``); pre- and
    post-release tails are ignored, enough for floors written as plain releases."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.group() != piece:
            break
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def floors(extras: list[str], pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """``{distribution: lowest tested version}`` for the dependencies and ``extras``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    name = project["name"]
    wanted, seen, out = list(extras), set(), {}
    requirements = list(project["dependencies"])
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    for requirement in requirements:
        found = _REQ.match(requirement)
        if not found:
            continue
        dist, inner, spec = found.group(1), found.group(2), found.group(3)
        if dist == name:  # extractor[local] inside another extra
            wanted += [e.strip() for e in (inner or "[]")[1:-1].split(",") if e.strip()]
            continue
        for clause in spec.split(","):
            clause = clause.strip()
            for op in (">=", "=="):
                if clause.startswith(op):
                    low = clause[len(op) :].strip()
                    if dist not in out or _key(low) > _key(out[dist]):
                        out[dist] = low
    if wanted:  # extras named through extractor[...]
        out.update(floors(wanted, pyproject) | out)
    return out


def main(argv: list[str]) -> int:
    bad = 0
    for dist, low in sorted(floors(argv).items()):
        try:
            have = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            print(f"MISSING  {dist} (tested from {low})")
            bad += 1
            continue
        ok = _key(have) >= _key(low)
        bad += not ok
        print(f"{'ok' if ok else 'TOO OLD':8} {dist} {have} (tested from {low})")
    if bad:
        print(f"{bad} installed dependencies are below the tested floor or missing: see pyproject.toml")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
