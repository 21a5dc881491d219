"""Read a ``multipart/form-data`` upload as it streams in, never more than the limit allows.

``POST /v1/files`` sends a ``purpose`` field and a ``file`` part. Parsing the whole form first
(as Starlette's ``request.form()`` does) would read a body of any size to the end, spooled to a
temporary file, before anyone could say it is too large. :class:`FormReader` instead hands the
file part's bytes, chunk by chunk, to a sink that refuses them once a limit is passed; the route
then stops reading. Short text fields are kept in memory (64 KiB at most each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from python_multipart.multipart import MultipartParser, parse_options_header

from .errors import (
    APIError,
    file_field_not_a_file,
    form_field_too_long,
    not_multipart,
    too_many_form_fields,
)

#: the most a text field (purpose, expires_after[...]) may hold
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 20


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...


class FormReader:
    """Feed it the body's chunks with :meth:`feed`; text fields land in :attr:`fields`.

    ``open_file(filename, fields_so_far)`` is called when the ``file`` part starts and returns
    the sink its bytes go to. Whatever the sink raises stops the parse and reaches the caller.
    """

    def __init__(self, content_type: str, open_file: Callable[[str, dict[str, str]], Sink]) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise not_multipart()
        self.fields: dict[str, str] = {}
        self.file_seen = False
        self._open_file = open_file
        self._sink: Sink | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._value = bytearray()
        self._done = False
        callbacks: Any = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }
        self._parser = MultipartParser(boundary, callbacks)

    def feed(self, chunk: bytes) -> None:
        """Parse one chunk. What the sink raises (too large, disk full) passes through."""
        try:
            self._parser.write(chunk)
        except (APIError, OSError):
            raise
        except Exception:
            raise not_multipart() from None

    def finish(self) -> None:
        """The body has ended: it must have been a whole form."""
        try:
            self._parser.finalize()
        except Exception:
            raise not_multipart() from None
        if not self._done:
            raise not_multipart()

    # -- parser callbacks ---------------------------------------------------------------------

    def _part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._value = bytearray()
        self._sink = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise not_multipart()
        self._name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self._name == "file" and filename is not None:
            if self.file_seen:  # one file per upload
                raise not_multipart()
            self.file_seen = True
            self._sink = self._open_file(filename.decode("utf-8", "replace"), self.fields)
        elif self._name == "file":
            raise file_field_not_a_file()
        elif len(self.fields) >= MAX_FIELDS:
            raise too_many_form_fields(MAX_FIELDS)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            self._sink.write(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise form_field_too_long(self._name)

    def _part_end(self) -> None:
        if self._sink is None and self._name is not None:
            self.fields[self._name] = self._value.decode("utf-8", "replace")
        self._sink = None

    def _end(self) -> None:
        self._done = True
