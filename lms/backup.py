"""Backup and restore: a programme's records as one versioned archive, and back.

An archive is a zip holding ``manifest.json`` and one ``<table>.jsonl`` per table: one JSON
object per row, in primary-key order, with values written one way only (datetimes and dates in
ISO 8601, Decimal as text, bytes as base64, JSON columns as they are, None as null). Two
exports of the same data are therefore byte-identical apart from the manifest's ``created_at``,
on SQLite and on PostgreSQL alike. The manifest names the format version, the lms version, the
schema revision (the Alembic head the database was at), and each table's row count and SHA-256.

The tables are those of ``Base.metadata``, so a table added later is archived without a change
here; only ``EXCLUDED_TABLES`` are left out. Rows are streamed both ways, so a database larger
than memory can be exported and restored.

A restore goes only into an empty database at the archive's schema revision (an empty one gets
the schema through the migrations first). The archive is checked in full before anything is
written, the rows go in within one transaction in dependency order, and on PostgreSQL each
table's id sequence is then moved past the restored ids.

Pure of Flask: the ``lms export`` / ``lms import`` commands (``lms/cli.py``) and the tests call
these functions with an engine or a session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Time,
    TypeDecorator,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

import lms
from lms import models  # noqa: F401  (register every table on Base.metadata)
from lms.database import Base, Database
from lms.models._types import utcnow
from lms.models.revision import ContentRevision, new_stamp

FORMAT = "lms-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Rows per executemany on import and per fetch on export: big enough to be fast, small enough
# that memory stays flat however large the tables are.
BATCH = 1000

# Not records of the programme but short-lived security state. Restoring log-in failures would
# lock people out (or let the counts be reset by a restore); restoring log-in sessions would
# revive sessions on another server (a restored database starts with nobody logged in).
# The Alembic version table is not in Base.metadata, so it is never archived either: its
# revision goes into the manifest instead.
# Short-lived security state: throttle counts, log-ins, and LTI launches in flight and the
# nonces they spent (a restored nonce would only block a launch that can no longer happen).
# The content revision is a cache stamp, not a record: a restore moves it (below), so no
# running process keeps content it read before.
EXCLUDED_TABLES = frozenset({"lms_login_failure", "lms_login_session", "lms_lti_launch_state",
                             "lms_lti_nonce", "lms_content_revision"})

# Every zip entry gets this date, so the archive's bytes do not depend on when it was written.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BackupError(Exception):
    """Why an archive cannot be written or restored, in words for the person running it."""


@dataclass(frozen=True)
class TableEntry:
    name: str
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format_version: int
    lms_version: str
    schema_revision: str
    created_at: str
    tables: tuple[TableEntry, ...]
    excluded: tuple[str, ...]

    @property
    def row_count(self) -> int:
        return sum(entry.rows for entry in self.tables)

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "format_version": self.format_version,
            "lms_version": self.lms_version,
            "schema_revision": self.schema_revision,
            "created_at": self.created_at,
            "tables": [{"name": e.name, "file": e.file, "rows": e.rows, "sha256": e.sha256}
                       for e in self.tables],
            "excluded": list(self.excluded),
        }, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: bytes) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise BackupError("manifest.json is not an lms backup manifest.")
            version = data.get("format_version")
            if version != FORMAT_VERSION:
                raise BackupError(
                    f"The archive is in backup format {version!r}; this lms reads format "
                    f"{FORMAT_VERSION} only (it was made by lms {data.get('lms_version')}).")
            tables = tuple(TableEntry(name=str(t["name"]), file=str(t["file"]),
                                      rows=int(t["rows"]), sha256=str(t["sha256"]))
                           for t in data["tables"])
            return cls(format_version=version, lms_version=str(data["lms_version"]),
                       schema_revision=str(data["schema_revision"]),
                       created_at=str(data["created_at"]), tables=tables,
                       excluded=tuple(data.get("excluded", ())))
        except BackupError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"manifest.json is damaged: {exc}") from None


def archived_tables() -> list[Table]:
    """Every lms table but the excluded ones, parents before the tables that refer to them."""
    return [t for t in Base.metadata.sorted_tables if t.name not in EXCLUDED_TABLES]


def head_revision() -> str | None:
    """The schema revision this lms's migrations end at."""
    from lms.migrate import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_revision(connection: Connection) -> str | None:
    """The revision the database's schema is at (None: never migrated)."""
    from lms.migrate import VERSION_TABLE

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


# --- values ----------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """One stored value as JSON, always written the same way."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value  # JSON columns (lists, dicts) stay as they are
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # as text: a float would lose digits
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise BackupError(f"cannot archive a value of type {type(value).__name__}")


def _none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def decoder_for(column: Column) -> Callable[[Any], Any] | None:
    """How to read a column's JSON value back (None: use it as it is). Decided by the column's
    type, never by the value, so a JSON column's text that looks like a date stays text."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return None
    if isinstance(kind, DateTime):
        return _none_or(datetime.fromisoformat)
    if isinstance(kind, Date):
        return _none_or(date.fromisoformat)
    if isinstance(kind, Time):
        return _none_or(time.fromisoformat)
    if isinstance(kind, Float):
        return _none_or(float)
    if isinstance(kind, Numeric):
        return _none_or(lambda v: Decimal(str(v)) if kind.asdecimal else float(v))
    if isinstance(kind, LargeBinary):
        return _none_or(base64.b64decode)
    return None


def encode_row(names: list[str], row: Any) -> bytes:
    record = {name: encode_value(value) for name, value in zip(names, row, strict=True)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# --- export ----------------------------------------------------------------------------------


@contextmanager
def _reading(source: Session | Engine | Connection) -> Iterator[Connection]:
    """A connection that sees one moment of the database for the whole export."""
    # A session or connection is read inside the caller's transaction, at its isolation level.
    if isinstance(source, Session):
        yield source.connection()
        return
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ",
                                         postgresql_readonly=True)
        elif connection.dialect.name == "sqlite":
            # pysqlite begins no transaction for a SELECT, so each table would be read at a
            # different moment; an explicit BEGIN makes every read one snapshot (WAL).
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_table(archive: zipfile.ZipFile, connection: Connection, table: Table) -> TableEntry:
    names = [column.name for column in table.columns]
    query = (select(table).order_by(*table.primary_key.columns)
             .execution_options(yield_per=BATCH))  # a server-side cursor on PostgreSQL
    digest, rows, file = hashlib.sha256(), 0, f"{table.name}.jsonl"
    with archive.open(_zip_entry(file), "w", force_zip64=True) as out:
        for partition in connection.execute(query).partitions():
            chunk = b"".join(encode_row(names, row) for row in partition)
            digest.update(chunk)
            out.write(chunk)
            rows += len(partition)
    return TableEntry(name=table.name, file=file, rows=rows, sha256=digest.hexdigest())


def export_archive(source: Session | Engine | Connection, path: str | Path, *,
                   overwrite: bool = False) -> Manifest:
    """Write every archived table of ``source`` to a zip at ``path``; return its manifest.

    The file appears only when complete (it is written beside and renamed), and an existing
    file is replaced only with ``overwrite``.
    """
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the archive's file name.")
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists; choose another name or replace it.")
    partial = path.with_name(path.name + ".partial")
    with _reading(source) as connection:
        revision, head = schema_revision(connection), head_revision()
        if revision is None:
            raise BackupError("This database has no lms schema revision: it was not made by "
                              "lms's migrations (`lms db upgrade`), so there is nothing to "
                              "export that could be restored.")
        if revision != head:
            raise BackupError(f"This database is at schema revision {revision}, but this lms "
                              f"is at {head}: run `lms db upgrade` first.")
        try:
            # Only the owner may read it: it holds password hashes and private notes.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
                entries = tuple(_write_table(archive, connection, t) for t in archived_tables())
                manifest = Manifest(
                    format_version=FORMAT_VERSION, lms_version=lms.__version__,
                    schema_revision=revision,
                    created_at=utcnow().isoformat(timespec="seconds"), tables=entries,
                    excluded=tuple(sorted(EXCLUDED_TABLES & set(Base.metadata.tables))))
                archive.writestr(_zip_entry(MANIFEST), manifest.to_json())
            os.replace(partial, path)
        except OSError as exc:
            raise BackupError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        finally:
            partial.unlink(missing_ok=True)
    return manifest


# --- reading an archive ----------------------------------------------------------------------


@contextmanager
def _open_archive(path: str | Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not an archive.") from None
    except zipfile.BadZipFile:
        raise BackupError(f"{path} is not a zip file (or is cut short).") from None
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    with archive:
        try:
            yield archive
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            # zipfile checks each entry's CRC as it is read
            raise BackupError(f"{path} is damaged: {exc}.") from None


def _member(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    try:
        return archive.open(name)
    except KeyError:
        raise BackupError(f"The archive has no {name}.") from None


def read_manifest(path: str | Path) -> Manifest:
    """The archive's manifest, without checking the table files."""
    with _open_archive(path) as archive, _member(archive, MANIFEST) as handle:
        return Manifest.from_json(handle.read())


def verify_archive(path: str | Path) -> Manifest:
    """Check every table file against the manifest's count and checksum, and that the tables
    are exactly this lms's; return the manifest. Reads the archive, writes nothing."""
    with _open_archive(path) as archive:
        with _member(archive, MANIFEST) as handle:
            manifest = Manifest.from_json(handle.read())
        for entry in manifest.tables:
            digest, lines = hashlib.sha256(), 0
            with _member(archive, entry.file) as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                    lines += chunk.count(b"\n")
            if digest.hexdigest() != entry.sha256:
                raise BackupError(f"{entry.file} does not match its checksum in the manifest: "
                                  "the archive was changed or damaged. Nothing was restored.")
            if lines != entry.rows:
                raise BackupError(f"{entry.file} has {lines} rows but the manifest says "
                                  f"{entry.rows}. Nothing was restored.")
    return manifest


def _check_tables(manifest: Manifest) -> None:
    have = [entry.name for entry in manifest.tables]
    want = [table.name for table in archived_tables()]
    if sorted(have) != sorted(want):
        missing = ", ".join(sorted(set(want) - set(have))) or "none"
        extra = ", ".join(sorted(set(have) - set(want))) or "none"
        raise BackupError("The archive's tables are not this lms's (missing: "
                          f"{missing}; unknown: {extra}). Nothing was restored.")


# --- import ----------------------------------------------------------------------------------


class _BorrowedDatabase(Database):
    """lms.migrate works on a Database; this one borrows an engine instead of making one."""

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.render_as_string(hide_password=False)
        self.engine = engine
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)


def _late_columns(table: Table, order: dict[str, int]) -> list[Column]:
    """Foreign keys to the table itself or to one inserted after it: the cycles that
    sorted_tables had to break (lms_quiz.current_version_id, through use_alter) and
    self-references (lms_sign_off.revokes_id). They go in as NULL and are set once every row
    is in, which works on both engines without deferrable constraints."""
    late = [fk.parent for fk in table.foreign_keys
            if order.get(fk.column.table.name, -1) >= order[table.name]]
    for column in late:
        if not column.nullable:
            raise BackupError(f"{table.name}.{column.name} refers to a table restored after it "
                              "and cannot be NULL, so it cannot be restored in two steps.")
    return late


def _rows(handle: IO[bytes], entry: TableEntry, table: Table) -> Iterator[dict[str, Any]]:
    names = {column.name for column in table.columns}
    decoders = {c.name: d for c in table.columns if (d := decoder_for(c)) is not None}
    for number, line in enumerate(handle, start=1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or set(record) != names:
                raise BackupError(f"{entry.file}:{number}: its columns are not those of "
                                  f"{table.name} in this lms. Nothing was restored.")
            for name, decode in decoders.items():
                record[name] = decode(record[name])
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{entry.file}:{number}: cannot read the row ({exc}). "
                              "Nothing was restored.") from None
        yield record


def _insert_table(connection: Connection, archive: zipfile.ZipFile, entry: TableEntry,
                  table: Table, late: list[Column]) -> list[dict[str, Any]]:
    """Insert one table's rows in batches; return the late foreign keys to set afterwards."""
    keys = [column.name for column in table.primary_key.columns]
    pending: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    statement = insert(table)
    with _member(archive, entry.file) as handle:
        for record in _rows(handle, entry, table):
            later = {c.name: record[c.name] for c in late if record[c.name] is not None}
            if later:
                pending.append({**{f"pk_{k}": record[k] for k in keys}, **later})
                record.update(dict.fromkeys(later))
            batch.append(record)
            if len(batch) >= BATCH:
                connection.execute(statement, batch)
                batch = []
        if batch:
            connection.execute(statement, batch)
    return pending


def _set_late(connection: Connection, table: Table, late: list[Column],
              pending: list[dict[str, Any]]) -> None:
    condition = [c == bindparam(f"pk_{c.name}") for c in table.primary_key.columns]
    for column in late:
        rows = [{**{k: v for k, v in row.items() if k.startswith("pk_")},
                 "late_value": row[column.name]} for row in pending if column.name in row]
        for start in range(0, len(rows), BATCH):
            connection.execute(update(table).where(*condition)
                               .values({column.name: bindparam("late_value")}),
                               rows[start:start + BATCH])


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: move each id sequence past the restored ids, or the next new row would be
    given id 1 and collide. (SQLite takes max(id) + 1 by itself.)"""
    quote = connection.dialect.identifier_preparer
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = func.pg_get_serial_sequence(quote.format_table(table), column.name)
            top = select(func.max(column)).scalar_subquery()
            # setval(seq, n, false): the next id handed out is n itself
            connection.execute(select(func.setval(sequence, func.coalesce(top, 0) + 1,
                                                  literal(False))))


def _non_empty(connection: Connection, tables: list[Table]) -> list[str]:
    return [t.name for t in tables
            if connection.execute(select(literal(1)).select_from(t).limit(1)).first()]


def import_archive(target: Database | Engine, path: str | Path) -> Manifest:
    """Restore the archive at ``path`` into ``target``, which must hold no lms rows.

    Refuses (``BackupError``, nothing written) a damaged or changed archive, an archive at
    another schema revision than the target's, or a target with any lms rows. An empty target
    without the lms schema gets it from the migrations first. Returns the archive's manifest.
    """
    manifest = verify_archive(path)
    db = target if isinstance(target, Database) else _BorrowedDatabase(target)
    tables = archived_tables()

    with db.engine.connect() as connection:
        revision = schema_revision(connection)
        present = set(inspect(connection).get_table_names()) & set(Base.metadata.tables)
    if revision is None and present:
        raise BackupError("The target database has lms tables but no schema revision (it was "
                          "not made by lms's migrations). Restore into an empty database.")
    wanted = revision or head_revision()
    if manifest.schema_revision != wanted:
        where = "the target database is" if revision else "this lms creates databases"
        raise BackupError(
            f"The archive is at schema revision {manifest.schema_revision}, but {where} at "
            f"revision {wanted}. Restore it with the lms version that made it "
            f"({manifest.lms_version}), then run `lms db upgrade`. Nothing was restored.")
    _check_tables(manifest)

    entries = {entry.name: entry for entry in manifest.tables}
    order = {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}
    if revision is None:
        from lms.migrate import upgrade

        upgrade(db)  # the schema comes from the migrations, as for any new database
    with _open_archive(path) as archive, db.engine.connect() as connection, \
            connection.begin():
        if connection.dialect.name == "sqlite":
            # Take the write lock now: nobody may add rows between the check and the copy.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        if busy := _non_empty(connection, tables):
            raise BackupError(
                "The target database already holds lms records (in "
                f"{', '.join(busy[:5])}{', ...' if len(busy) > 5 else ''}). "
                "Restore only into an empty database. Nothing was restored.")
        late = {table.name: _late_columns(table, order) for table in tables}
        pending: dict[str, list[dict[str, Any]]] = {}
        current = ""
        try:
            for table in tables:
                current = table.name
                pending[table.name] = _insert_table(connection, archive,
                                                    entries[table.name], table,
                                                    late[table.name])
            for table in tables:
                current = table.name
                if pending[table.name]:
                    _set_late(connection, table, late[table.name], pending[table.name])
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection, tables)
            connection.execute(update(ContentRevision.__table__).values(stamp=new_stamp()))
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise BackupError(f"The rows of {current} do not fit this database ({reason}). "
                              "Nothing was restored.") from None
        except (StatementError, ValueError, TypeError) as exc:
            # A value of the wrong kind for its column (a hand-edited or foreign archive).
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise BackupError(f"A value in {current} is not what its column holds ({reason}). "
                              "Nothing was restored.") from None
    return manifest
