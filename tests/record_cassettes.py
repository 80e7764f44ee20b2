"""Re-record every cassette against the bundled llama.cpp server.

    pip install -e '.[local,test]'
    python tests/record_cassettes.py [pytest args, e.g. -k summarize]

Run it whenever a prompt, a schema or a request changes (a replayed test then fails on a
cassette miss, naming the request). It starts the bundled engine (xllamacpp, or the one
``EXTRACTOR_ENGINE`` names) with the bundled model, SmolLM2-135M-Instruct listed as
``smollm2-135m`` (fetched once on first use), on a free port of 127.0.0.1 with an API key of
its own; deletes the cassettes of the tests about to run; runs those tests (``pytest -m vcr``)
in ``rewrite`` mode against the server, and stops it. Then it replays the same tests offline,
as CI will, and exits non-zero if the recording or the replay failed.

Recordings keep only decoded JSON bodies and the content-type header (see conftest.py): the
key, the port and the server's headers never reach a cassette. Requests are matched on their
JSON body, so answers recorded at temperature 0 are replayed whatever the order. A small
model's answers can change with the engine's version or its batch: review the diff of
``tests/cassettes`` before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from extractor.local.models import fetch_notice
    from extractor.local.server import LocalServer

    from tests.conftest import CASSETTE_MODEL

    # pytest-recording's ``rewrite`` mode was seen to keep a cassette's old interactions (a
    # request sent before a schema change stayed next to the new one): the cassettes of the
    # tests about to run are deleted here first, so each holds what this recording sent only.
    for path in _cassettes(argv):
        path.unlink(missing_ok=True)
    fetching = fetch_notice(CASSETTE_MODEL)
    if fetching:
        print(fetching, file=sys.stderr)
    with LocalServer.bundled(CASSETTE_MODEL) as server:
        print(f"recording against {server.base_url} ({server.model_name}; {server.describe()})", file=sys.stderr)
        env = {**os.environ, "EXTRACTOR_RECORD_BASE_URL": server.base_url, "EXTRACTOR_RECORD_API_KEY": server.api_key}
        command = [sys.executable, "-m", "pytest", "-m", "vcr", "--record-mode=rewrite", "-p", "no:cacheprovider", *argv]
        recorded = subprocess.call(command, cwd=ROOT, env=env)
    if recorded != 0:
        print(f"record_cassettes: the recording run failed (exit {recorded}); see above", file=sys.stderr)
        return recorded
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTOR_RECORD_")}
    replayed = subprocess.call([sys.executable, "-m", "pytest", "-m", "vcr", "-q", "-p", "no:cacheprovider", *argv],
                               cwd=ROOT, env=clean)  # fmt: skip
    if replayed != 0:
        print(f"record_cassettes: the cassettes do not replay (exit {replayed}); see above", file=sys.stderr)
    return replayed


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
