"""Who answers batch lines and direct calls: the local responder, a cassette, or an upstream.

:func:`build` turns the start-up settings into one responder, used both by the runner (batch
lines) and by the direct routes (``POST /v1/chat/completions`` ...):

=================================  ===================================================
settings                           answers
=================================  ===================================================
(none)                             the local placeholder responder
``--upstream URL``                 the upstream server (``upstream.UpstreamResponder``)
``--upstream URL --record FILE``   the same, each answer also appended to ``FILE``
``--replay FILE``                  the cassette; what it lacks, the local responder
``--replay FILE --upstream URL``   the cassette; what it lacks, the upstream (recorded
                                   with ``--record``, to the same file or another)
``--replay FILE --replay-strict``  the cassette; what it lacks, a 404 ``not_recorded``
=================================  ===================================================

A cassette that is not valid raises :class:`.cassette.CassetteError` here, so the server
refuses to start and names the line; the one exception is a torn last line (no newline, not an
exchange) in the file recorded to, what a crash while recording leaves: it is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cassette import Cassette, Recorder, ReplayResponder, drop_torn_line
from .config import Settings
from .responder import LocalResponder
from .runner import Responder


@dataclass
class Answering:
    """The responder a server uses, how many requests it may run at once, and its kind."""

    responder: Responder
    concurrency: int
    #: "local", "replay" or "upstream" (:attr:`.config.Settings.responder`)
    kind: str
    recorder: Recorder | None = None


def build(settings: Settings) -> Answering:
    if settings.record is not None and not settings.upstream:
        raise ValueError("--record needs --upstream: only answers from an upstream are recorded")
    if settings.replay_strict and settings.replay is None:
        raise ValueError("--replay-strict needs --replay FILE")
    if settings.record is not None:  # a crash while recording: before the file is read
        drop_torn_line(settings.record)  # (it may be the one replayed)
    cassette = Cassette.load(settings.replay) if settings.replay is not None else None
    recorder = Recorder(settings.record) if settings.record is not None else None
    if recorder is not None and cassette is not None and cassette.path is not None:
        if recorder.path.resolve() == cassette.path.resolve():
            recorder.also.append(cassette)  # what is recorded is replayed from then on

    responder: Responder = LocalResponder(any_model=settings.any_model)
    concurrency = 1
    if settings.upstream:
        from .upstream import UpstreamResponder  # only then: it loads an HTTP client

        responder = UpstreamResponder(
            settings.upstream,
            settings.upstream_key,
            timeout=settings.upstream_timeout,
            retries=settings.upstream_retries,
            concurrency=settings.upstream_concurrency,
            on_answer=recorder.record if recorder is not None else None,
        )
        concurrency = settings.upstream_concurrency
    if cassette is not None:
        responder = ReplayResponder(cassette, None if settings.replay_strict else responder)
    return Answering(responder, concurrency, settings.responder, recorder)


__all__ = ["Answering", "build"]
