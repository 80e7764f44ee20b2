"""Several replicas of one deployment: which one gets the next request, and which are drained.

A user with four GPUs runs four vLLM (or llama.cpp) servers with the same model and gives
``--base-url`` once per server. :class:`Replicas` is the chooser the
:class:`~extractor.http.transport.Transport` asks before every HTTP request, retries included,
so a retry of a request that failed on one replica may go to another:

* the next request goes to the usable replica with the **fewest requests in flight**; ties
  go round robin;
* a replica that stops answering is **drained**: at once when it refuses a connection,
  after :data:`FAULTS_TO_DRAIN` faults in a row otherwise (a dropped connection, a
  timeout, HTTP 5xx, an unreadable answer). It gets no new request for a cool-down
  (:data:`COOLDOWN_S`), then one request at a time (half-open): an answer puts it back in
  use, another fault drains it again for twice as long (at most :data:`MAX_COOLDOWN_S`);
* a replica that answers what retrying cannot fix (HTTP 401/403, 404, a web page where the
  API should be) is **dead** for the rest of the run, as long as another replica is left;
* when every replica is drained, requests still go out (to the one with the fewest in
  flight): the usual retries and fault handling apply, and papers that still fail become
  error records, as with one endpoint.

With one replica nothing changes: it always gets the request. Each change of a replica's
state is said once on the ``extractor`` logger (WARNING: shown on stderr by the command
line), only when there are several.

Example:
    >>> from extractor.settings import Settings
    >>> pool = Replicas(Settings(base_url=["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]))
    >>> a = pool.pick(); b = pool.pick()      # one each
    >>> a.host, b.host
    ('10.0.0.1:8000', '10.0.0.2:8000')
    >>> pool.done(a, "ok"); pool.pick().host   # 10.0.0.1 has none in flight now
    '10.0.0.1:8000'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..settings import Settings

__all__ = ["COOLDOWN_S", "FAULTS_TO_DRAIN", "MAX_COOLDOWN_S", "Outcome", "Replica", "Replicas"]

log = logging.getLogger("extractor")

#: Seconds a drained replica gets no new request, the first time.
COOLDOWN_S = 5.0
#: The longest cool-down (it doubles each time a drained replica fails its trial request).
MAX_COOLDOWN_S = 60.0
#: Faults in a row (dropped connections, timeouts, 5xx) that drain a replica; a refused
#: connection drains it at once.
FAULTS_TO_DRAIN = 3

#: How one request to a replica ended: ``ok`` (it answered, whatever the status),
#: ``fault`` (dropped, timed out, 5xx, unreadable), ``down`` (connection refused),
#: ``fatal`` (401/403/404, a web page), ``cancelled`` (nothing learnt).
Outcome = Literal["ok", "fault", "down", "fatal", "cancelled"]


@dataclass(eq=False)
class Replica:
    """One server: its settings (``base_url`` is this replica's alone), requests in
    flight, and its state: ``up``, ``drained`` (until ``until``, on the monotonic clock)
    or ``dead``."""

    settings: Settings
    index: int
    in_flight: int = 0
    sent: int = 0
    answered: int = 0
    faults: int = 0  # faults in a row
    state: Literal["up", "drained", "dead"] = "up"
    until: float = 0.0
    cooldown: float = 0.0
    reason: str = field(default="", repr=False)

    @property
    def host(self) -> str:
        """host:port only: what records and messages show."""
        return self.settings.endpoint_host


class Replicas:
    """The chooser and health of the replicas named by ``settings.base_url`` (the OpenAI
    API when none is). ``clock`` replaces :func:`time.monotonic` (tests); ``cooldown``
    the first cool-down in seconds (default :data:`COOLDOWN_S`, read when built)."""

    def __init__(
        self,
        settings: Settings,
        *,
        cooldown: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        urls = settings.base_urls or ("https://api.openai.com/v1",)
        self.members = [Replica(settings.model_copy(update={"base_url": url}), i) for i, url in enumerate(urls)]
        self.cooldown = COOLDOWN_S if cooldown is None else cooldown
        self.clock = clock
        self._next = 0  # round robin among ties starts here

    def __len__(self) -> int:
        return len(self.members)

    def _usable(self, replica: Replica, now: float) -> bool:
        if replica.state == "up":
            return True
        # Drained: after the cool-down, one trial request at a time (half-open).
        return replica.state == "drained" and now >= replica.until and replica.in_flight == 0

    def pick(self) -> Replica:
        """The replica for the next request (counted as in flight until :meth:`done`)."""
        now = self.clock()
        candidates = [r for r in self.members if self._usable(r, now)]
        if not candidates:  # all drained: the normal fault handling applies
            candidates = [r for r in self.members if r.state != "dead"] or self.members
        fewest = min(r.in_flight for r in candidates)
        tied = [r for r in candidates if r.in_flight == fewest]
        n = len(self.members)
        chosen = min(tied, key=lambda r: (r.index - self._next) % n)
        self._next = (chosen.index + 1) % n
        chosen.in_flight += 1
        chosen.sent += 1
        return chosen

    def done(self, replica: Replica, outcome: Outcome, reason: str = "") -> None:
        """Record how a request picked by :meth:`pick` ended; ``reason`` (e.g. ``HTTP
        503``) is said when the replica is drained or dropped."""
        replica.in_flight -= 1
        if outcome == "cancelled":
            return
        if outcome == "ok":
            replica.answered += 1
            replica.faults = 0
            if replica.state == "drained":
                replica.state, replica.cooldown = "up", 0.0
                self._say(f"extractor: replica {replica.host} answers again; back in use ({self._in_use()})")
            return
        if replica.state == "dead":
            return
        if outcome == "fatal":
            if any(r.state != "dead" for r in self.members if r is not replica):
                replica.state, replica.reason = "dead", reason
                self._say(f"extractor: replica {replica.host} is not used again in this run ({reason}; {self._in_use()})")
            return
        replica.faults += 1
        now = self.clock()
        if replica.state == "drained":
            if now >= replica.until:  # its trial request failed: a longer cool-down
                replica.cooldown = min(max(replica.cooldown, self.cooldown) * 2, MAX_COOLDOWN_S)
                replica.until = now + replica.cooldown
                if len(self) > 1:
                    log.info("extractor: replica %s still down (%s); next try in %gs", replica.host, reason, replica.cooldown)
            return
        if outcome == "down" or replica.faults >= FAULTS_TO_DRAIN:
            replica.state, replica.reason = "drained", reason
            replica.cooldown = min(self.cooldown, MAX_COOLDOWN_S)
            replica.until = now + replica.cooldown
            what = reason if outcome == "down" else f"{replica.faults} faults in a row, the last {reason}"
            self._say(f"extractor: replica {replica.host} drained for {replica.cooldown:g}s ({what}; {self._in_use()})")

    def others_up(self, replica: Replica) -> bool:
        """True when a replica other than ``replica`` is in use (not drained, not dead)."""
        return any(r.state == "up" for r in self.members if r is not replica)

    def _in_use(self) -> str:
        return f"{sum(r.state == 'up' for r in self.members)} of {len(self)} replicas in use"

    def _say(self, message: str) -> None:
        if len(self) > 1:
            log.warning("%s", message)
