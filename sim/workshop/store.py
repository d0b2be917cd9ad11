"""SQLite storage of workshop rooms: settings, participants, choices per round, results.

Every change is written in its own transaction the moment it happens (a participant's choice,
a round opened or closed), so after a server restart :class:`sim.workshop.room.Workshop` can
rebuild each room exactly: the market is rebuilt from its settings and the closed rounds are
replayed with the stored choices (the model is deterministic for a seed). Secrets are never
stored: the facilitator key and participant tokens are kept as SHA-256 hashes.

This module must never import the model or the UI.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA", "WorkshopStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    scenario TEXT NOT NULL,
    customers INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    weeks INTEGER NOT NULL,
    rounds INTEGER NOT NULL,
    seats INTEGER NOT NULL,
    phase TEXT NOT NULL,
    round INTEGER NOT NULL,
    created REAL NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS participants (
    code TEXT NOT NULL REFERENCES rooms(code),
    firm INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    PRIMARY KEY (code, firm),
    UNIQUE (code, name_key)
);
CREATE TABLE IF NOT EXISTS choices (
    code TEXT NOT NULL REFERENCES rooms(code),
    round INTEGER NOT NULL,
    firm INTEGER NOT NULL,
    promise_level REAL NOT NULL,
    focus TEXT NOT NULL,
    marketing REAL NOT NULL,
    disclose INTEGER NOT NULL,
    submitted INTEGER NOT NULL,
    capacity_share REAL NOT NULL DEFAULT 0.3,
    PRIMARY KEY (code, round, firm)
);
CREATE TABLE IF NOT EXISTS results (
    code TEXT NOT NULL REFERENCES rooms(code),
    round INTEGER NOT NULL,
    firm INTEGER NOT NULL,
    customers REAL NOT NULL,
    share REAL NOT NULL,
    retention REAL,
    nps REAL,
    trust REAL,
    profit REAL NOT NULL,
    cash REAL NOT NULL,
    clv REAL,
    PRIMARY KEY (code, round, firm)
);
"""
"""The tables (created if missing)."""

MIGRATIONS = (
    ("rooms", "paused", "INTEGER NOT NULL DEFAULT 0"),
    ("choices", "capacity_share", "REAL NOT NULL DEFAULT 0.3"),
    ("results", "clv", "REAL"),
)
"""Columns added to older databases when opened: ``(table, column, declaration)``."""

CHOICE_FIELDS = ("promise_level", "focus", "marketing", "disclose", "capacity_share")
RESULT_FIELDS = ("customers", "share", "retention", "nps", "trust", "profit", "cash", "clv")


class WorkshopStore:
    """Rooms in one SQLite file (``":memory:"`` for a store that lives as long as the object).

    Parameters
    ----------
    path
        The database file; its folder is created if needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Add columns introduced after a database was created (older files keep working)."""
        for table, column, decl in MIGRATIONS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})").fetchall()}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(sql, args)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _many(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    # -- rooms --------------------------------------------------------------------------------

    def code_taken(self, code: str) -> bool:
        """Whether a room with this code exists."""
        return bool(self._rows("SELECT 1 FROM rooms WHERE code = ?", (code,)))

    def add_room(self, room: dict[str, Any]) -> None:
        """Insert a room: ``code, key_hash, scenario, customers, seed, weeks, rounds, seats,
        phase, round``."""
        self._write(
            "INSERT INTO rooms (code, key_hash, scenario, customers, seed, weeks, rounds, seats,"
            " phase, round, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                room["code"],
                room["key_hash"],
                room["scenario"],
                int(room["customers"]),
                int(room["seed"]),
                int(room["weeks"]),
                int(room["rounds"]),
                int(room["seats"]),
                room["phase"],
                int(room["round"]),
                time.time(),
            ),
        )

    def rooms(self) -> list[dict[str, Any]]:
        """Every room's settings, oldest first."""
        return self._rows("SELECT * FROM rooms ORDER BY created, code")

    def room(self, code: str) -> dict[str, Any] | None:
        """One room's settings, or None."""
        rows = self._rows("SELECT * FROM rooms WHERE code = ?", (code,))
        return rows[0] if rows else None

    def set_phase(self, code: str, phase: str, round_: int) -> None:
        """Record the room's phase and current round."""
        self._write("UPDATE rooms SET phase = ?, round = ? WHERE code = ?", (phase, round_, code))

    def set_paused(self, code: str, paused: bool) -> None:
        """Record whether the room's open round is paused."""
        self._write("UPDATE rooms SET paused = ? WHERE code = ?", (int(bool(paused)), code))

    # -- participants -------------------------------------------------------------------------

    def add_participant(self, code: str, firm: int, name: str, token_hash: str) -> None:
        """Insert a participant (their firm is ``firm``)."""
        self._write(
            "INSERT INTO participants (code, firm, name, name_key, token_hash)"
            " VALUES (?, ?, ?, ?, ?)",
            (code, firm, name, name.casefold(), token_hash),
        )

    def set_token(self, code: str, firm: int, token_hash: str) -> None:
        """Replace the token (hash) of the participant of ``firm``."""
        self._write(
            "UPDATE participants SET token_hash = ? WHERE code = ? AND firm = ?",
            (token_hash, code, firm),
        )

    def participants(self, code: str) -> list[dict[str, Any]]:
        """The room's participants in joining order (``firm``, ``name``, ``token_hash``)."""
        return self._rows(
            "SELECT firm, name, token_hash FROM participants WHERE code = ? ORDER BY firm",
            (code,),
        )

    # -- choices and results ------------------------------------------------------------------

    def save_choice(
        self, code: str, round_: int, firm: int, choice: dict[str, Any], submitted: bool
    ) -> None:
        """Insert or replace a firm's choice for a round."""
        self._write(
            "INSERT OR REPLACE INTO choices (code, round, firm, promise_level, focus, marketing,"
            " disclose, submitted, capacity_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                code,
                round_,
                firm,
                float(choice["promise_level"]),
                str(choice["focus"]),
                float(choice["marketing"]),
                int(bool(choice["disclose"])),
                int(submitted),
                float(choice.get("capacity_share", 0.3)),
            ),
        )

    def choices(self, code: str) -> list[dict[str, Any]]:
        """Every stored choice of the room (``round``, ``firm``, the levers, ``submitted``)."""
        rows = self._rows(
            "SELECT round, firm, promise_level, focus, marketing, disclose, capacity_share,"
            " submitted FROM choices WHERE code = ? ORDER BY round, firm",
            (code,),
        )
        for r in rows:
            r["disclose"] = bool(r["disclose"])
            r["submitted"] = bool(r["submitted"])
        return rows

    def close_round(
        self,
        code: str,
        round_: int,
        choices: dict[int, dict[str, Any]],
        submitted: set[int],
        results: list[dict[str, Any]],
        phase: str,
    ) -> None:
        """In one transaction: the round's final choices, its results and the room's phase."""
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for firm, choice in sorted(choices.items()):
            statements.append(
                (
                    "INSERT OR REPLACE INTO choices (code, round, firm, promise_level, focus,"
                    " marketing, disclose, submitted, capacity_share)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        code,
                        round_,
                        firm,
                        float(choice["promise_level"]),
                        str(choice["focus"]),
                        float(choice["marketing"]),
                        int(bool(choice["disclose"])),
                        int(firm in submitted),
                        float(choice.get("capacity_share", 0.3)),
                    ),
                )
            )
        for row in results:
            statements.append(
                (
                    "INSERT OR REPLACE INTO results (code, round, firm, customers, share,"
                    " retention, nps, trust, profit, cash, clv)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (code, round_, row["firm"], *(row[k] for k in RESULT_FIELDS)),
                )
            )
        statements.append(
            ("UPDATE rooms SET phase = ?, round = ? WHERE code = ?", (phase, round_, code))
        )
        self._many(statements)

    def results(self, code: str) -> list[dict[str, Any]]:
        """Every stored result row of the room, by round then firm."""
        return self._rows(
            "SELECT round, firm, customers, share, retention, nps, trust, profit, cash, clv"
            " FROM results WHERE code = ? ORDER BY round, firm",
            (code,),
        )
