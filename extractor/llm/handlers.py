"""instructor's OpenAI handlers without the openai SDK: :func:`openai_handlers`.

``extractor`` sends its requests through :class:`~extractor.http.transport.Transport` and reads
answers itself, so of instructor it needs only the request handler (the body for a response
model), the re-ask handler and the response parser. Getting them the usual way imports the
whole openai SDK, 1.3 to 1.8 s of CPU here: more than a batch of 544 requests to a fast
server takes. This module gets them without it, once per process, and falls back to the
usual imports whenever anything differs from what it expects.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import logging
import sys
import threading
import types
from typing import Any

import instructor
from instructor.utils.providers import Provider
from instructor.v2.core.registry import ModeHandlers, mode_registry

__all__ = ["openai_handlers"]

log = logging.getLogger("extractor")


#: What :func:`openai_handlers` imports beside packages whose ``__init__`` imports the whole
#: openai SDK: each module, the packages it is imported without, and whether what was
#: imported below them stays imported (see :func:`_import_beside`).
_SDK_FREE_IMPORTS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    # The response-model wrapper of instructor's request handlers (imported by their first
    # call): it imports openai.types.chat for annotations, and so the SDK's __init__. What
    # it brought in of the SDK is dropped afterwards: a later `import openai` starts afresh.
    ("instructor.v2.core.function_calls", ("openai", "openai.types"), False),
    # The handlers: the registry imports them through their package, whose __init__ imports
    # its client factory, and with it the SDK. They stay: instructor imports their sibling
    # `schema` at run time, and the package, imported later, uses them.
    ("instructor.v2.providers.openai.handlers", ("instructor.v2.providers.openai",), True),
)
_handlers_lock = threading.Lock()
_handlers_tried = False


def openai_handlers(mode: instructor.Mode) -> ModeHandlers:
    """``instructor``'s request handler, re-ask handler and response parser for ``mode``
    over the OpenAI protocol: ``mode_registry.get_handlers(Provider.OPENAI, mode)``, the
    first call loading them without the openai SDK.

    Why: the openai SDK takes 1.3 to 1.8 s of CPU to import, more than a whole batch of
    requests to a fast server, and nothing here uses it: requests go through
    :class:`~extractor.http.transport.Transport` and answers are read as :class:`ChatAnswer`.
    Yet instructor imports it twice over on the way to the handlers: the registry loads
    them by importing ``instructor.v2.providers.openai.handlers``, and Python first
    executes that package's ``__init__``, which imports its client factory and with it
    ``openai``; and the first request imports ``instructor.v2.core.function_calls``,
    which imports ``openai.types.chat`` for annotations, so Python executes the
    ``__init__`` of ``openai`` and of ``openai.types``: the whole SDK. So the first call
    imports those two modules beside their packages (:data:`_SDK_FREE_IMPORTS`,
    :func:`_import_beside`): what they use is imported (the handlers; the chat types and
    the few SDK modules they are built on, some 60 ms, not kept), the rest is not.

    Whatever differs from the layout this expects (another instructor or openai version,
    a package already imported, any error) ends in the usual imports: slower, never
    broken.
    """
    global _handlers_tried
    if not _handlers_tried:
        with _handlers_lock:  # once per process, however many threads ask at once
            if not _handlers_tried:
                for module, packages, keep in _SDK_FREE_IMPORTS:
                    try:
                        _import_beside(module, packages, keep=keep)
                    except Exception as exc:  # noqa: BLE001 - the usual import follows
                        log.debug("imported %s the usual way (%s: %s)", module, type(exc).__name__, exc)
                _handlers_tried = True
    return mode_registry.get_handlers(Provider.OPENAI, mode)


class _StandIn(types.ModuleType):
    """A package's name and directories without its ``__init__``, while :func:`_import_beside`
    imports a module beside it. Whoever still holds it once it is gone (another thread's
    import that raced with it) finds the attributes of the real package, imported then."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or sys.modules.get(self.__name__) is self:
            raise AttributeError(name)
        return getattr(importlib.import_module(self.__name__), name)


def _import_beside(module: str, packages: tuple[str, ...], *, keep: bool) -> None:
    """Import ``module`` without executing the ``__init__`` of ``packages`` (parents first,
    none of them imported yet; else ``module`` is imported as usual).

    While the import runs, ``sys.modules`` holds a :class:`_StandIn` for each package, with
    the package's directories as ``__path__``: Python finds the modules below it there and
    sets them up as usual, without executing the package itself. Then the stand-ins are
    removed. With ``keep``, what was imported below them stays imported: a later import of
    one of those modules finds it without importing the package, and a later real import
    of the package executes its ``__init__``, which uses them as they are (instructor's
    handlers registered once); Python does not make them attributes of the real package
    then (``from package import handlers`` works, ``package.handlers`` does not). Without
    ``keep`` they are dropped from ``sys.modules`` as well: a later import of the package
    starts afresh, as if this had not run, and ``module`` keeps what it took from them.

    Threads: each package's import lock is held while its stand-in is in ``sys.modules``,
    and the stand-in is marked as being initialised, so another thread importing the
    package meanwhile waits until it is gone, then imports it for real; a package being
    imported for real by another thread is waited for, then found imported, and nothing is
    stood in for. One race is left to Python: a thread that starts importing a module
    below one of the packages (``openai.types.chat``) just as the stand-ins go in takes the
    import locks in the other order, and Python's deadlock detection then fails one of
    the two imports (here, the usual import follows).

    Raises when anything fails; the stand-ins, and whatever was imported below them, are
    removed first, so the usual import that follows starts afresh.
    """
    if module in sys.modules or any(name in sys.modules for name in packages):
        importlib.import_module(module)
        return
    lock = importlib._bootstrap._ModuleLockManager  # type: ignore[attr-defined]
    stand_ins: dict[str, _StandIn] = {}
    for name in packages:
        parent = name.rpartition(".")[0]
        if parent in stand_ins:
            path: list[str] | None = list(stand_ins[parent].__path__)
        else:
            path = list(importlib.import_module(parent).__path__) if parent else None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"{name} is not a package on the path", name=name)
        stand_in = _StandIn(name, "Stand-in while extractor imports a module beside it (see extractor.llm.completions).")
        stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        stand_in.__spec__.submodule_search_locations = stand_in.__path__
        stand_in.__spec__._initializing = True  # type: ignore[attr-defined]  # importers wait for its lock
        stand_ins[name] = stand_in
    below = tuple(f"{name}." for name in packages)
    with contextlib.ExitStack() as locks:
        for name in packages:
            locks.enter_context(lock(name))
        if any(name in sys.modules for name in packages):  # imported by another thread meanwhile
            importlib.import_module(module)
            return
        before = set(sys.modules)
        sys.modules.update(stand_ins)
        done = False
        try:
            importlib.import_module(module)
            done = True
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
                stand_in.__spec__._initializing = False  # type: ignore[attr-defined]
            if not (done and keep):
                for name in set(sys.modules) - before:
                    if name.startswith(below):
                        del sys.modules[name]
