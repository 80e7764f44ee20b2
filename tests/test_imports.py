"""Start-up: what ``extractor run`` imports.

The openai SDK takes over a second to import and nothing here uses it: instructor's
handlers and response models are imported beside the packages that would import it
(``extractor.llm.handlers.openai_handlers``). The tests that look at ``sys.modules`` run a
fresh Python against the loopback stub, so what other tests imported does not count; the
mechanism itself is tested on a package of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .helpers import make_papers, read_records
from .stub_server import StubServer, by_marker

ROOT = Path(__file__).resolve().parent.parent

MODES = ("tools", "json_schema", "json", "md_json")


def _python(code: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter on this checkout; it prints one JSON line last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXTRACTOR_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_run_never_imports_the_openai_sdk(tmp_path: Path) -> None:
    """``extractor run`` in each mode, a re-ask included: instructor's handlers do the
    work, the openai SDK is never imported (nor rich with -q, nor the bundled server's
    module with --base-url)."""
    for k, mode in enumerate(MODES):  # the stub counts attempts per prompt: papers of each mode's own
        fault = "[[fault:schema_failx1]]"
        make_papers(tmp_path / f"{mode}.in.jsonl", 2, start=10 * k, marker=lambda i: fault if i % 2 else None)
    with StubServer(faults=by_marker()) as stub:
        report = _python(
            f"""
            import json, sys
            from extractor.cli import main
            codes = []
            for mode in {MODES!r}:
                try:
                    main(["run", {str(tmp_path)!r} + f"/{{mode}}.in.jsonl", "-o", {str(tmp_path)!r} + f"/{{mode}}.jsonl",
                          "--base-url", {stub.base_url!r}, "--model", "stub-model", "--mode", mode,
                          "--grounding", "off", "--no-cache", "-q"])
                except SystemExit as exc:
                    codes.append(exc.code)
            loaded = [m for m in sys.modules if m == "openai" or m.startswith(("openai.", "instructor.v2.providers"))]
            print(json.dumps({{"codes": codes, "loaded": loaded,
                               "rich": "rich" in sys.modules, "local": "extractor.local.server" in sys.modules}}))
            """,
            tmp_path,
        )
    assert report["codes"] == [0] * len(MODES)
    for mode in MODES:
        records = read_records(tmp_path / f"{mode}.jsonl")
        assert len(records) == 2 and all(r["error"] is None for r in records), (mode, records)
        assert sorted(r["provenance"]["attempts"] for r in records) == [1, 2], mode  # the second was re-asked
    assert "instructor.v2.providers.openai.handlers" in report["loaded"]
    assert "instructor.v2.providers.openai" not in report["loaded"]  # the stand-in is gone
    sdk = [m for m in report["loaded"] if m == "openai" or m.startswith("openai.")]
    assert sdk == [], "the openai SDK was imported: has instructor's layout changed? (extractor.llm.handlers._SDK_FREE_IMPORTS)"
    assert not report["rich"] and not report["local"]


def test_instructor_and_openai_work_after_the_handlers_were_loaded(tmp_path: Path) -> None:
    """After the handlers were loaded beside their packages, the real packages import and
    work: instructor.from_openai over the openai SDK answers through the stub, with the
    handlers registered once; the SDK, of which nothing was kept, imports afresh."""
    with StubServer() as stub:
        report = _python(
            f"""
            import asyncio, json, sys
            from pydantic import BaseModel
            from extractor.llm.completions import INSTRUCTOR_MODES
            from extractor.llm.handlers import openai_handlers
            first = openai_handlers(INSTRUCTOR_MODES["tools"])
            before = [m for m in sys.modules if m == "openai" or m.startswith("openai.")]

            import instructor, openai
            import instructor.v2.core.function_calls as function_calls
            import instructor.v2.providers.openai as package
            from instructor.v2.providers.openai import handlers
            from instructor.utils.providers import Provider
            from instructor.v2.core.registry import mode_registry

            class Answer(BaseModel):
                summary: str

            client = instructor.from_openai(openai.AsyncOpenAI(api_key="sk-test", base_url={stub.base_url!r}))
            answer = asyncio.run(client.chat.completions.create(
                model="stub-model", response_model=Answer, max_retries=0,
                messages=[{{"role": "user", "content": "Say something."}}]))
            print(json.dumps({{
                "openai_before": before,
                "answer": type(answer).__name__,
                "from_openai": package.from_openai is instructor.from_openai,
                "same_handlers": mode_registry.get_handlers(Provider.OPENAI, INSTRUCTOR_MODES["tools"]) is first,
                "handlers": handlers is sys.modules["instructor.v2.providers.openai.handlers"],
                "chat_types": openai.types.chat.ChatCompletion.__module__,
                "sdk_modules": openai._models is sys.modules["openai._models"],
                "annotation": function_calls.ChatCompletion.__qualname__,
            }}))
            """,
            tmp_path,
        )
    assert report == {
        "openai_before": [],
        "answer": "Answer",
        "from_openai": True,
        "same_handlers": True,
        "handlers": True,
        "chat_types": "openai.types.chat.chat_completion",
        "sdk_modules": True,
        "annotation": "ChatCompletion",
    }


def test_concurrent_first_calls_load_the_handlers_once(tmp_path: Path) -> None:
    report = _python(
        """
        import json, sys, threading
        from extractor.llm.completions import INSTRUCTOR_MODES
        from extractor.llm.handlers import openai_handlers
        barrier, got = threading.Barrier(8), []

        def ask(mode):
            barrier.wait()
            got.append(openai_handlers(INSTRUCTOR_MODES[mode]))

        threads = [threading.Thread(target=ask, args=(("tools", "json")[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"distinct": len({id(h) for h in got}), "n": len(got), "openai": "openai" in sys.modules,
                          "stand_in": "instructor.v2.providers.openai" in sys.modules}))
        """,
        tmp_path,
    )
    assert report == {"distinct": 2, "n": 8, "openai": False, "stand_in": False}


@pytest.mark.parametrize(
    "imports",
    [
        # a package that is not where it was: nothing is stood in for
        '(("instructor.v2.providers.openai.handlers", ("instructor.v2.providers.moved",), True),)',
        # a module that is not there: the import below the stand-in fails
        '(("instructor.v2.providers.openai.renamed", ("instructor.v2.providers.openai",), True),)',
    ],
)
def test_another_layout_falls_back_to_the_usual_import(tmp_path: Path, imports: str) -> None:
    """Whatever differs from the layout expected, the handlers come the usual way (the
    openai SDK imported): slower, never broken, no stand-in left behind."""
    report = _python(
        f"""
        import json, sys
        from pydantic import BaseModel
        from extractor.llm import completions
        from extractor.llm import handlers as loader

        class Answer(BaseModel):
            summary: str

        loader._SDK_FREE_IMPORTS = {imports}
        handlers = loader.openai_handlers(completions.INSTRUCTOR_MODES["tools"])
        _, body = handlers.request_handler(Answer, {{"model": "m", "messages": []}})
        package = sys.modules.get("instructor.v2.providers.openai")
        print(json.dumps({{"tool": body["tools"][0]["function"]["name"],
                           "stand_in": isinstance(package, loader._StandIn),
                           "real_package": package is not None and package.from_openai is not None,
                           "left": [m for m in sys.modules if "moved" in m or "renamed" in m]}}))
        """,
        tmp_path,
    )
    assert report == {"tool": "Answer", "stand_in": False, "real_package": True, "left": []}


# -- the mechanism, on a package of its own ------------------------------------------


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A package ``standin_pkg`` whose ``__init__`` records that it ran, with modules below
    it, and a module ``standin_user`` beside it; removed from sys.modules afterwards."""
    root = tmp_path / "site"
    (root / "standin_pkg").mkdir(parents=True)
    files = {
        "standin_trace.py": "events = []\n",
        "standin_pkg/__init__.py": "import standin_trace\nstandin_trace.events.append('init')\nREAL = True\n",
        "standin_pkg/a.py": "import standin_trace\nstandin_trace.events.append('a')\n",
        "standin_pkg/b.py": "from standin_pkg import a\nVALUE = 'b'\n",
        "standin_pkg/broken.py": "from standin_pkg import a\nraise RuntimeError('broken')\n",
        "standin_pkg/slow.py": (
            "import threading, standin_trace\nfrom standin_pkg import a\n"
            "standin_trace.events.append('slow')\nstandin_trace.go.wait(5)\n"
        ),
        "standin_user.py": "from standin_pkg.a import __name__ as A\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(root))
    yield __import__("standin_trace")
    for name in [m for m in sys.modules if m.startswith("standin_")]:
        del sys.modules[name]


def test_a_module_is_imported_beside_its_package(package: Any) -> None:
    from extractor.llm.handlers import _import_beside

    _import_beside("standin_pkg.b", ("standin_pkg",), keep=True)
    assert package.events == ["a"]  # the package's __init__ did not run
    assert "standin_pkg" not in sys.modules and sys.modules["standin_pkg.b"].VALUE == "b"
    import standin_pkg  # the real package, later: its __init__ runs, and uses what was imported

    assert package.events == ["a", "init"] and standin_pkg.REAL
    from standin_pkg import b

    assert b is sys.modules["standin_pkg.b"]


def test_without_keep_nothing_below_the_package_stays(package: Any) -> None:
    from extractor.llm.handlers import _import_beside

    _import_beside("standin_user", ("standin_pkg",), keep=False)
    assert sys.modules["standin_user"].A == "standin_pkg.a"
    assert not [m for m in sys.modules if m.startswith("standin_pkg")]
    import standin_pkg.a  # afresh

    assert package.events == ["a", "init", "a"]


def test_a_failed_import_leaves_nothing_behind(package: Any) -> None:
    from extractor.llm.handlers import _import_beside

    with pytest.raises(RuntimeError, match="broken"):
        _import_beside("standin_pkg.broken", ("standin_pkg",), keep=True)
    assert not [m for m in sys.modules if m.startswith("standin_pkg")]


def test_another_thread_importing_the_package_meanwhile_gets_the_real_one(package: Any) -> None:
    """It waits for the package's import lock, and finds the real package's attributes."""
    import threading
    import time

    from extractor.llm.handlers import _import_beside

    package.go = threading.Event()
    seen: list[Any] = []

    def other() -> None:
        while "slow" not in package.events:
            time.sleep(0.005)
        threading.Timer(0.2, package.go.set).start()
        from standin_pkg import REAL  # while the stand-in is there: waits for it to go

        seen.append(REAL)

    thread = threading.Thread(target=other)
    thread.start()
    _import_beside("standin_pkg.slow", ("standin_pkg",), keep=True)
    thread.join(10)
    assert seen == [True]
    assert package.events == ["a", "slow", "init"]  # the real __init__ ran after the stand-in went
