"""Storage: SQLite for objects and state, a directory for file bytes.

Layout of a state directory::

    state.sqlite3      files, batches, forced outcomes, runtime settings, the outbox of
                       webhook events (WAL mode)
    files/<file id>    the bytes of every uploaded or generated file
    work/<batch id>.*  result lines of running batches, appended as they are made
    server.json        where the server for this directory listens (written by the launcher)
    server.log         its log

Objects are stored as the JSON the API returns, next to a few indexed columns. One connection
guarded by a lock serves the request threads and the runner; SQLite is far faster than the
HTTP layer in front of it, and a single writer never sees "database is locked".
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .constants import DEFAULT_NAMESPACE
from .lifecycle import ACTIVE
from .records import BatchRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    purpose TEXT NOT NULL,
    object TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_ns ON files(namespace, seq);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    status TEXT NOT NULL,
    object TEXT NOT NULL,
    internal TEXT NOT NULL
);
-- Store._add_runner_columns adds RUNNER_COLUMNS to the batches table
CREATE INDEX IF NOT EXISTS batches_ns ON batches(namespace, seq);
CREATE INDEX IF NOT EXISTS batches_status ON batches(status);
CREATE TABLE IF NOT EXISTS forces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT,
    custom_id TEXT,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at REAL,
    last_attempt_at REAL,
    delivered_at REAL,
    last_error TEXT,
    UNIQUE (batch_id, type)
);
CREATE INDEX IF NOT EXISTS webhook_events_due ON webhook_events(status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_events_ns ON webhook_events(namespace, seq);
"""

#: the columns of a webhook event row, in the order :meth:`Store.webhook_events` reads them
WEBHOOK_EVENT_COLUMNS = (
    "id",
    "webhook_id",
    "namespace",
    "batch_id",
    "type",
    "payload",
    "url",
    "secret",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "last_attempt_at",
    "delivered_at",
    "last_error",
)

ACTIVE_STATUSES = tuple(sorted(ACTIVE))

#: columns of the batches table that copy what the runner reads of a running batch (see
#: :meth:`Store.running_batches`), each with its type and how it is read from the JSON: added
#: to a state directory written before they existed, and filled from its JSON
RUNNER_COLUMNS = {
    "entered": ("REAL NOT NULL DEFAULT 0", "COALESCE(json_extract(internal, '$.entered'), 0)"),
    "ending": ("TEXT", "json_extract(internal, '$.ending')"),
    "expires_at": ("INTEGER", "json_extract(object, '$.expires_at')"),
    "total": (
        "INTEGER NOT NULL DEFAULT 0",
        "COALESCE(json_extract(object, '$.request_counts.total'), 0)",
    ),
}

#: the Windows error for a file another handle holds open (ERROR_SHARING_VIOLATION)
_SHARING_VIOLATION = 32


def _in_use(exc: OSError) -> bool:
    """Whether Windows refused to move or remove a file because it is open (a download)."""
    return getattr(exc, "winerror", None) == _SHARING_VIOLATION


def _runner_fields(obj: dict[str, Any], record: BatchRecord) -> tuple[Any, ...]:
    """The :data:`RUNNER_COLUMNS` of a batch, in their order."""
    total = (obj.get("request_counts") or {}).get("total") or 0
    return (record.entered, record.ending, obj.get("expires_at"), total)


def setting_key(namespace: str, name: str) -> str:
    """Where a namespace's setting is saved (the default namespace keeps the plain names)."""
    return name if namespace == DEFAULT_NAMESPACE else f"{namespace}/{name}"


class Store:
    """All persistent state of one server, under one state directory."""

    def __init__(self, state_dir: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.files_dir = self.state_dir / "files"
        self.work_dir = self.state_dir / "work"
        for folder in (self.state_dir, self.files_dir, self.work_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0  # nesting of transaction() on the lock-holding thread
        self._marked = False  # whether remove_later marked bytes since the start
        self._reader: sqlite3.Connection | None = None  # see batch_object_text
        self._db = sqlite3.connect(
            self.state_dir / "state.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self._add_runner_columns()

    def _add_runner_columns(self) -> None:
        """Add the :data:`RUNNER_COLUMNS` a state directory lacks, filled from its JSON."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(batches)")}
        missing = [name for name in RUNNER_COLUMNS if name not in have]
        if not missing:
            return
        with self.transaction() as db:
            for name in missing:
                db.execute(f"ALTER TABLE batches ADD COLUMN {name} {RUNNER_COLUMNS[name][0]}")
            filled = ", ".join(f"{name} = {RUNNER_COLUMNS[name][1]}" for name in missing)
            db.execute(f"UPDATE batches SET {filled}")

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._reader is not None:
                self._reader.close()

    def batch_object_text(self, namespace: str, batch_id: str) -> str | None:
        """A namespace's batch object as its stored JSON text, read without the store's lock on
        a connection of its own (WAL lets it read while the others write), for the event loop's
        hot path (:mod:`.routes.hot`). Call it from one thread only. None when there is no such
        batch, or the read could not be done at once (then the caller takes the usual path)."""
        if self._reader is None:
            self._reader = sqlite3.connect(
                self.state_dir / "state.sqlite3", check_same_thread=False, isolation_level=None
            )
            self._reader.execute("PRAGMA busy_timeout=20")
            self._reader.execute("PRAGMA query_only=1")
        try:
            row = self._reader.execute(
                "SELECT object FROM batches WHERE id = ? AND namespace = ?", (batch_id, namespace)
            ).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:  # nested: part of the enclosing transaction
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- settings ---------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # -- files ------------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def insert_file(
        self, namespace: str, obj: dict[str, Any], *, quota: int | None = None, now: int = 0
    ) -> bool:
        """Store a File object. With a ``quota`` (bytes), only if the namespace's files (those
        not expired at ``now``) and this one fit in it, checked in the same transaction.
        Returns whether it was stored."""
        with self.transaction() as db:
            if quota is not None and self.stored_bytes(namespace, now) + obj["bytes"] > quota:
                return False
            db.execute(
                "INSERT INTO files(id, namespace, purpose, object) VALUES (?, ?, ?, ?)",
                (obj["id"], namespace, obj["purpose"], json.dumps(obj)),
            )
        return True

    def stored_bytes(self, namespace: str, now: int) -> int:
        """The bytes of a namespace's files, uploaded or made by its batches, but those expired
        at ``now`` (the API no longer shows them, so their owner cannot delete them)."""
        rows = self._query(
            "SELECT COALESCE(SUM(json_extract(object, '$.bytes')), 0) FROM files "
            "WHERE namespace = ? AND (json_extract(object, '$.expires_at') IS NULL "
            "OR json_extract(object, '$.expires_at') > ?)",
            (namespace, now),
        )
        return int(rows[0][0])

    def get_file(self, namespace: str, file_id: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT object FROM files WHERE id = ? AND namespace = ?", (file_id, namespace)
        )
        return json.loads(rows[0][0]) if rows else None

    def list_files(
        self,
        namespace: str,
        *,
        purpose: str | None,
        ascending: bool,
        after: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of files and whether more follow."""
        sql = "SELECT object FROM files WHERE namespace = ?"
        args: list[Any] = [namespace]
        if purpose:
            sql += " AND purpose = ?"
            args.append(purpose)
        if after:
            cursor = self._query(
                "SELECT seq FROM files WHERE id = ? AND namespace = ?", (after, namespace)
            )
            if cursor:
                sql += " AND seq > ?" if ascending else " AND seq < ?"
                args.append(cursor[0][0])
        sql += " ORDER BY seq " + ("ASC" if ascending else "DESC") + " LIMIT ?"
        args.append(limit + 1)
        rows = [json.loads(r[0]) for r in self._query(sql, tuple(args))]
        return rows[:limit], len(rows) > limit

    def delete_file(self, namespace: str, file_id: str) -> bool:
        """Delete a file's row and bytes, all or nothing.

        The bytes are first moved aside (a read-only folder refuses that, and nothing has
        changed); then the row goes; then the bytes. If the row cannot go, the bytes come back.

        A download may be reading the file meanwhile. On POSIX it goes on reading what it
        opened; Windows refuses to move or delete a file that is open, so there the row goes and
        the bytes stay where they are, marked to be removed later (:meth:`remove_later`).
        """
        if self._marked:
            self.sweep_later()
        path = self.file_path(file_id)
        aside = self.files_dir / f".deleted-{file_id}"
        moved = path.exists()
        in_use = False
        if moved:
            try:
                os.replace(path, aside)
            except PermissionError as exc:
                if not _in_use(exc):
                    raise
                moved, in_use = False, True
        try:
            with self.transaction() as db:
                deleted = db.execute(
                    "DELETE FROM files WHERE id = ? AND namespace = ?", (file_id, namespace)
                ).rowcount
        except BaseException:
            if moved:
                os.replace(aside, path)
            raise
        if moved and not deleted:
            os.replace(aside, path)
        aside.unlink(missing_ok=True)  # left behind only if this fails: removed at the next start
        if in_use and deleted:
            self.remove_later(file_id)
        return bool(deleted)

    def remove(self, file_id: str) -> None:
        """Remove a file's bytes (its row is gone), or, while Windows refuses because a download
        has it open, mark them to be removed later."""
        try:
            self.file_path(file_id).unlink(missing_ok=True)
        except PermissionError as exc:
            if not _in_use(exc):
                raise
            self.remove_later(file_id)

    def remove_later(self, file_id: str) -> None:
        """Mark a file's bytes for removal by :meth:`sweep_later` (the next delete, or the
        next start)."""
        (self.files_dir / f".remove-{file_id}").touch()
        self._marked = True

    def sweep_later(self) -> None:
        """Remove the bytes marked by :meth:`remove_later` that nothing holds open any more."""
        for mark in self.files_dir.glob(".remove-*"):
            try:
                self.file_path(mark.name.removeprefix(".remove-")).unlink(missing_ok=True)
            except PermissionError:
                continue  # still open: the next sweep
            mark.unlink(missing_ok=True)

    # -- batches ----------------------------------------------------------------------------

    def insert_batch(self, namespace: str, obj: dict[str, Any], record: BatchRecord) -> None:
        internal = json.dumps(record.to_json())
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches(id, namespace, status, object, internal, entered, ending, "
                "expires_at, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    obj["id"],
                    namespace,
                    obj["status"],
                    json.dumps(obj),
                    internal,
                    *_runner_fields(obj, record),
                ),
            )

    def get_batch(
        self, namespace: str | None, batch_id: str
    ) -> tuple[dict[str, Any], BatchRecord] | None:
        """A batch object and its record (in ``namespace``, or in any when it is None)."""
        if namespace is None:
            rows = self._query("SELECT object, internal FROM batches WHERE id = ?", (batch_id,))
        else:
            rows = self._query(
                "SELECT object, internal FROM batches WHERE id = ? AND namespace = ?",
                (batch_id, namespace),
            )
        if not rows:
            return None
        return json.loads(rows[0][0]), BatchRecord.from_json(json.loads(rows[0][1]))

    def get_batch_object(self, namespace: str, batch_id: str) -> dict[str, Any] | None:
        """A namespace's batch object alone (``batches.retrieve``: the record is not read)."""
        rows = self._query(
            "SELECT object FROM batches WHERE id = ? AND namespace = ?", (batch_id, namespace)
        )
        return json.loads(rows[0][0]) if rows else None

    def save_batch(self, obj: dict[str, Any], record: BatchRecord) -> None:
        internal = json.dumps(record.to_json())
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET status = ?, object = ?, internal = ?, entered = ?, "
                "ending = ?, expires_at = ?, total = ? WHERE id = ?",
                (
                    obj["status"],
                    json.dumps(obj),
                    internal,
                    *_runner_fields(obj, record),
                    obj["id"],
                ),
            )

    def list_batches(
        self, namespace: str, *, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of batches, newest first, and whether more follow."""
        sql = "SELECT object FROM batches WHERE namespace = ?"
        args: list[Any] = [namespace]
        if after:
            cursor = self._query(
                "SELECT seq FROM batches WHERE id = ? AND namespace = ?", (after, namespace)
            )
            if cursor:
                sql += " AND seq < ?"
                args.append(cursor[0][0])
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit + 1)
        rows = [json.loads(r[0]) for r in self._query(sql, tuple(args))]
        return rows[:limit], len(rows) > limit

    def active_batch_ids(self) -> list[tuple[str, str]]:
        """(namespace, id) of every batch the runner still has to move, oldest first."""
        marks = ",".join("?" * len(ACTIVE_STATUSES))
        return [
            (r[0], r[1])
            for r in self._query(
                f"SELECT namespace, id FROM batches WHERE status IN ({marks}) ORDER BY seq",
                ACTIVE_STATUSES,
            )
        ]

    def running_batches(self) -> list[tuple[str, str, str, float, str | None, int, int]]:
        """What the runner reads of every batch it still has to move, oldest first, without
        reading any JSON: (namespace, id, status, entered, ending, expires_at, total)."""
        marks = ",".join("?" * len(ACTIVE_STATUSES))
        return [
            (r[0], r[1], r[2], float(r[3] or 0.0), r[4], int(r[5] or 0), int(r[6] or 0))
            for r in self._query(
                "SELECT namespace, id, status, entered, ending, expires_at, total FROM batches "
                f"WHERE status IN ({marks}) ORDER BY seq",
                ACTIVE_STATUSES,
            )
        ]

    def expiry_targets(self) -> set[tuple[str, str | None]]:
        """(namespace, batch id) of every forced expiry not yet used (None: any batch)."""
        rows = self._query("SELECT DISTINCT namespace, target FROM forces WHERE kind = 'expiry'")
        return {(r[0], r[1]) for r in rows}

    def enqueued_tokens(self, namespace: str, model: str, exclude: str) -> int:
        """Input tokens of this namespace's running batches for ``model``."""
        return self.enqueued(namespace, model, exclude)[0]

    def enqueued(self, namespace: str, model: str, exclude: str) -> tuple[int, int]:
        """Input tokens and requests of this namespace's running batches for ``model``."""
        tokens = requests = 0
        for internal, total in self._query(
            "SELECT internal, total FROM batches WHERE namespace = ? AND id != ? "
            "AND status IN ('in_progress', 'finalizing')",
            (namespace, exclude),
        ):
            record = BatchRecord.from_json(json.loads(internal))
            if record.model == model:
                tokens += record.input_tokens
                requests += int(total or 0)
        return tokens, requests

    def summary(self, namespace: str, now: int) -> dict[str, Any]:
        """What a namespace holds at ``now`` on its clock: file count (expired files are gone),
        batch count by status, the last time anything was created or moved, and the notebooks
        its batches say they came from."""
        files = self._query(
            "SELECT COUNT(*), MAX(json_extract(object, '$.created_at')) FROM files "
            "WHERE namespace = ? AND (json_extract(object, '$.expires_at') IS NULL "
            "OR json_extract(object, '$.expires_at') > ?)",
            (namespace, now),
        )[0]
        by_status: dict[str, int] = {}
        last = files[1]
        notebooks: set[str] = set()
        for (text,) in self._query("SELECT object FROM batches WHERE namespace = ?", (namespace,)):
            batch = json.loads(text)
            by_status[batch["status"]] = by_status.get(batch["status"], 0) + 1
            stamps = [v for k, v in batch.items() if k.endswith("_at") and isinstance(v, int)]
            stamps = [t for t in stamps if t != batch.get("expires_at")]
            if stamps:
                last = max(last or 0, *stamps)
            tag = (batch.get("metadata") or {}).get("notebook")
            if isinstance(tag, str):
                notebooks.add(tag)
        return {
            "files": files[0],
            "batches": by_status,
            "last_activity": last,
            "notebooks": notebooks,
        }

    # -- forced outcomes --------------------------------------------------------------------

    def add_force(
        self, namespace: str, kind: str, target: str | None, custom_id: str | None, outcome: dict
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO forces(namespace, kind, target, custom_id, outcome) "
                "VALUES (?, ?, ?, ?, ?)",
                (namespace, kind, target, custom_id, json.dumps(outcome)),
            )

    def forces(self, namespace: str, kind: str, target: str | None) -> list[tuple[int, dict]]:
        """Forced outcomes of ``kind`` for ``target`` or for any target, oldest first."""
        rows = self._query(
            "SELECT seq, custom_id, outcome FROM forces WHERE namespace = ? AND kind = ? "
            "AND (target IS NULL OR target = ?) ORDER BY seq",
            (namespace, kind, target),
        )
        return [(r[0], {"custom_id": r[1], **json.loads(r[2])}) for r in rows]

    def delete_force(self, seq: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM forces WHERE seq = ?", (seq,))

    def delete_forces(self, namespace: str, kind: str, target: str) -> None:
        """Delete the forced outcomes of ``kind`` aimed at ``target``."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM forces WHERE namespace = ? AND kind = ? AND target = ?",
                (namespace, kind, target),
            )

    # -- webhook events (the outbox) --------------------------------------------------------

    def add_webhook_event(self, namespace: str, event: dict[str, Any]) -> bool:
        """Queue an event (the columns of :data:`WEBHOOK_EVENT_COLUMNS` but ``namespace``).

        A batch sends one event of a type, ever: a second one is ignored. Returns whether it
        was added.
        """
        row = {**event, "namespace": namespace}
        names = [c for c in WEBHOOK_EVENT_COLUMNS if c in row]
        with self.transaction() as db:
            added = db.execute(
                f"INSERT OR IGNORE INTO webhook_events({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                tuple(row[c] for c in names),
            ).rowcount
        return bool(added)

    def webhook_events(
        self,
        namespace: str | None = None,
        *,
        status: str | None = None,
        batch_id: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Webhook events, newest first, filtered by what is given (for those due, see
        :meth:`due_webhook_events`)."""
        sql = f"SELECT {', '.join(WEBHOOK_EVENT_COLUMNS)} FROM webhook_events WHERE 1 = 1"
        args: list[Any] = []
        for column, value in (("namespace", namespace), ("status", status), ("batch_id", batch_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        return [
            dict(zip(WEBHOOK_EVENT_COLUMNS, r, strict=True)) for r in self._query(sql, tuple(args))
        ]

    def due_webhook_events(
        self, due_by: float, *, skip_urls: Collection[str] = (), limit: int
    ) -> list[dict[str, Any]]:
        """The oldest pending event due by ``due_by`` of each endpoint (URL) but those in
        ``skip_urls``, oldest first, at most ``limit``: one endpoint's backlog never hides
        another's events."""
        skip = tuple(skip_urls)
        unless = f" AND url NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        sql = (
            f"SELECT {', '.join(WEBHOOK_EVENT_COLUMNS)} FROM webhook_events WHERE seq IN ("
            "SELECT MIN(seq) FROM webhook_events WHERE status = 'pending' "
            f"AND next_attempt_at <= ?{unless} GROUP BY url) ORDER BY seq LIMIT ?"
        )
        rows = self._query(sql, (due_by, *skip, limit))
        return [dict(zip(WEBHOOK_EVENT_COLUMNS, r, strict=True)) for r in rows]

    def next_webhook_attempt(self, *, skip_urls: Collection[str] = ()) -> float | None:
        """When the next pending event is due, leaving out the endpoints (URLs) in
        ``skip_urls`` (None: none is pending)."""
        skip = tuple(skip_urls)
        unless = f" AND url NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        rows = self._query(
            f"SELECT MIN(next_attempt_at) FROM webhook_events WHERE status = 'pending'{unless}",
            skip,
        )
        return rows[0][0] if rows else None

    def update_webhook_event(self, event_id: str, **fields: Any) -> None:
        """Save the outcome of a delivery attempt (a reset may have deleted the event: then
        nothing happens)."""
        unknown = set(fields) - set(WEBHOOK_EVENT_COLUMNS)
        assert not unknown, unknown
        with self.transaction() as db:
            db.execute(
                f"UPDATE webhook_events SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                (*fields.values(), event_id),
            )

    def retry_pending_webhooks(self, now: float) -> int:
        """Make every pending event due ``now`` (at start-up). Returns how many there are."""
        with self.transaction() as db:
            return db.execute(
                "UPDATE webhook_events SET next_attempt_at = ? WHERE status = 'pending'", (now,)
            ).rowcount

    def delete_webhook_events(self, namespace: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM webhook_events WHERE namespace = ?", (namespace,))

    # -- reset ------------------------------------------------------------------------------

    def reset(self, namespace: str) -> list[str]:
        """Delete every file, batch and forced outcome of a namespace. Returns the batch ids."""
        with self.transaction() as db:
            file_ids = [
                r[0] for r in db.execute("SELECT id FROM files WHERE namespace = ?", (namespace,))
            ]
            batch_ids = [
                r[0] for r in db.execute("SELECT id FROM batches WHERE namespace = ?", (namespace,))
            ]
            db.execute("DELETE FROM files WHERE namespace = ?", (namespace,))
            db.execute("DELETE FROM batches WHERE namespace = ?", (namespace,))
            db.execute("DELETE FROM forces WHERE namespace = ?", (namespace,))
        for file_id in file_ids:
            self.remove(file_id)
        for batch_id in batch_ids:
            for part in self.work_dir.glob(batch_id + ".*"):
                part.unlink(missing_ok=True)
        return batch_ids
