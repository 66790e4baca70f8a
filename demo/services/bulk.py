"""Bulk insertion of generated rows for the demo's activity (issue 5 point 5): millions of rows
are far too many for model instances or `bulk_create`.

PostgreSQL: `COPY … FROM STDIN` streaming CSV generated in chunks (DESIGN §6 allows PostgreSQL
means when the embedded default keeps a plain fallback). SQLite, the fallback: `executemany` of
one plain INSERT per chunk. Rows are tuples of values both take as they are: strings for text,
dates (YYYY-MM-DD), decimals and UTC timestamps (the connection's time zone is UTC when
USE_TZ is on), 0/1 for booleans and None for NULL.
"""

import csv
import io
from contextlib import contextmanager
from itertools import islice

from django.db import connection

CHUNK = 200_000
# SQLite's page cache during a load, in KiB: the default 2 MB thrashes once the indexes on hashes
# (patient_key) outgrow it, and 512 MB halves the load of a million rows.
SQLITE_CACHE_KIB = 512 * 1024


def insert_rows(model, columns, rows):
    """Insert every row of the iterable `rows` (tuples in the order of `columns`, field names)
    into `model`'s table; return the number inserted."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in columns)
    postgres = connection.vendor == "postgresql"
    write = _copy if postgres else _executemany
    total = 0
    iterator = iter(rows)
    with connection.cursor() as cursor, _page_cache(cursor, enabled=not postgres):
        while chunk := list(islice(iterator, CHUNK)):
            write(cursor, table, names, len(columns), chunk)
            total += len(chunk)
        if postgres:
            # Fresh statistics, so the first indicator queries plan with the real row counts.
            cursor.execute(f"ANALYZE {table}")
    return total


@contextmanager
def _page_cache(cursor, *, enabled):
    """A large SQLite page cache for the load, then the connection's own again."""
    if not enabled:
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (previous,) = cursor.fetchone()
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _copy(cursor, table, names, _width, chunk):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(chunk)
    buffer.seek(0)
    sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
    raw = cursor.cursor
    if hasattr(raw, "copy_expert"):  # psycopg2
        raw.copy_expert(sql, buffer)
    else:  # psycopg 3
        with raw.copy(sql) as copy:
            copy.write(buffer.getvalue())


def _executemany(cursor, table, names, width, chunk):
    placeholders = ", ".join(["%s"] * width)
    sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from _meta, quoted)
    cursor.executemany(sql, chunk)
