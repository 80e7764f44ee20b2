"""A Batch API's output files, read: :class:`BatchOutput` indexes their lines by
``custom_id`` (each answer read again from its file when asked for, so memory holds only
the index) and gives each request's chat completion, or the
:class:`~extractor.errors.EndpointError` saying why its line carries none. The first good
answer of a repeated ``custom_id`` wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import EndpointError, InputError, InputWarning, one_line
from ..http.status import error_message, status_kind
from ..records.jsonl import json_lines

__all__ = ["BatchOutput"]


@dataclass(frozen=True)
class _Where:
    file: int
    offset: int
    line: int


class BatchOutput:
    """Batch output files, indexed by ``custom_id`` (each answer is read again from its
    file when asked for, so memory holds only the index). When a ``custom_id`` has several
    lines (a request submitted again, two output files of one batch), **the first good
    answer wins**: the lines are tried in file order, and the first one that answered and
    validates is the answer (a later line, good or bad, never replaces it); each repeated
    ``custom_id`` is reported to ``on_error`` as an :class:`~extractor.errors.InputWarning`.

    A line that is not JSON, or lacks a ``custom_id``, is reported to ``on_error`` as a
    one-line :class:`~extractor.errors.InputError` naming file and line, and skipped; its
    paper then has no answer. Use as a context manager (the files stay open)."""

    def __init__(self, paths: list[str | Path], on_error: Callable[[InputError], None] | None = None) -> None:
        self.paths = [str(p) for p in paths]
        self.lines = 0
        self._index: dict[str, list[_Where]] = {}
        self._files: list[IO[bytes]] = []
        report = on_error or _raise
        try:
            for path in self.paths:
                try:
                    fh = Path(path).open("rb")
                except OSError as exc:
                    raise InputError(path, f"cannot read the batch output file ({exc.strerror or exc})") from exc
                self._files.append(fh)
                self._scan(len(self._files) - 1, path, fh, report)
        except BaseException:
            self.close()
            raise

    def _scan(self, file: int, path: str, fh: IO[bytes], report: Callable[[InputError], None]) -> None:
        offsets: dict[int, int] = {}

        def numbered() -> Iterator[tuple[int, bytes]]:
            offset = 0
            for number, raw in enumerate(fh, 1):
                offsets[number] = offset
                offset += len(raw)
                yield number, raw

        for number, line in json_lines(path, numbered(), report):
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or not custom_id:
                report(InputError(path, "a batch output line without a custom_id", number))
                continue
            self.lines += 1
            seen = self._index.setdefault(custom_id, [])
            if seen:
                first = seen[0]
                report(InputWarning(
                    path, f"custom_id {custom_id!r} answered again (first at {self.paths[first.file]}:{first.line}); "
                    "the first good answer is used", number,
                ))  # fmt: skip
            seen.append(_Where(file, offsets.pop(number), number))
            offsets.clear()

    def __contains__(self, custom_id: str) -> bool:
        return custom_id in self._index

    def __len__(self) -> int:
        return len(self._index)

    def completions(self, custom_id: str) -> list[Any]:
        """Every line answering ``custom_id``, in file order: its chat completion, or the
        :class:`~extractor.errors.EndpointError` saying why the line carries none.
        ``missing`` is raised when the output has no line for it."""
        lines = self._index.get(custom_id)
        if not lines:
            raise EndpointError(
                "missing",
                f"{custom_id}: no answer in the batch output ({', '.join(self.paths)}); submit it again "
                "(extractor batch prepare --skip-done RECORDS writes only what is left)",
            )
        return [self._read(custom_id, where) for where in lines]

    def completion(self, custom_id: str) -> Any:
        """The chat completion of the first line that answered ``custom_id``; the first
        line's :class:`~extractor.errors.EndpointError` when none did."""
        found = self.completions(custom_id)
        for answer in found:
            if not isinstance(answer, EndpointError):
                return answer
        raise found[0]

    def _read(self, custom_id: str, where: _Where) -> Any:
        fh = self._files[where.file]
        fh.seek(where.offset)
        line = json.loads(fh.readline())
        failure = _failure(line)
        if failure is not None:
            return EndpointError(failure[0], f"{custom_id}: {failure[1]}", 1)
        return line["response"]["body"]

    def close(self) -> None:
        for fh in self._files:
            fh.close()

    def __enter__(self) -> BatchOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raise(err: InputError) -> None:
    raise err


def _failure(line: dict[str, Any]) -> tuple[str, str] | None:
    """``(error kind, message)`` of an output line that carries no answer, else None."""
    error, response = line.get("error"), line.get("response")
    if error:
        what = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else str(error)
        return "batch_error", f"the batch failed this request ({one_line(what)})"
    if not isinstance(response, dict) or not isinstance(response.get("body"), dict):
        return "bad_response", "the batch output line has no response body"
    status = response.get("status_code")
    if status == 200:
        return None
    body = response["body"]
    kind = status_kind(status, body) if isinstance(status, int) else "http"
    return kind, f"the batch answered HTTP {status}: {one_line(error_message(body))}"
