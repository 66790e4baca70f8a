"""Writes of encounters: idempotent ingestion of a batch of records (DESIGN §4.2, issue 5 point 2).

The bulk API and the Excel upload both call `ingest`. Valid records are upserted by (institution
or outside facility, source, external_id) in one transaction, whoever sends them (`client` is who
sent the current values): a database error anywhere rolls the whole batch
back, and sending the same batch again changes nothing (every record `unchanged`).

On PostgreSQL the upsert is one statement per batch, `INSERT … SELECT FROM unnest(arrays) ON
CONFLICT … DO UPDATE … WHERE (columns) IS DISTINCT FROM (EXCLUDED.columns) RETURNING (xmax = 0)`:
rows that did not change are not written at all, and `xmax = 0` tells a created row from an
updated one. Elsewhere (the embedded SQLite default) a plain fallback does the same with the ORM:
one read of the existing keys, bulk_create and bulk_update (DESIGN §6).

Late data is restated visibly (issue 14 point 5): the (alliance, month) of every record created
or updated, before and after an update (a corrected date may move a record to another month),
are marked changed with `core.measures.mark_changed` in the batch's transaction, the audited
IngestBatch as the cause. The upsert itself reports them, grouped: no query per record, and one
INSERT of the marks per alliance in the batch. Unchanged and rejected records mark nothing.
"""

from operator import itemgetter

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import access, measures
from core.bulk import array_literal

from .models import Admission, EncounterKind, IngestBatch, OutpatientVisit, OutsideFacility
from .validation import validate_records

MODELS = {EncounterKind.VISITS: OutpatientVisit, EncounterKind.ADMISSIONS: Admission}
SOURCE_LENGTH = 64
# The columns an upsert writes and compares, beside the key and `received_at` (model attnames).
COMMON_COLUMNS = (
    "alliance_id",
    "month",
    "institution_id",
    "outside_facility_id",
    "department_id",
    "patient_key",
    "resident_region",
    "is_resident",
    "in_county",
    "diagnosis",
    "total_cost",
    "insurance_paid",
    "tcm",
    "referral_id",
)
COLUMNS = {
    EncounterKind.VISITS: (*COMMON_COLUMNS, "visit_date"),
    EncounterKind.ADMISSIONS: (*COMMON_COLUMNS, "admit_date", "discharge_date"),
}
IN_CHUNK = 500  # keys per IN (…) on the plain path (SQLite's parameter limit)
PLACES = ("institution_id", "outside_facility_id")  # where a record happened: the first of its key


def ingest(kind, records, *, client, source, dry_run=False):
    """Validate and upsert one batch of encounter records sent by `client` from `source`.

    Returns `{"created", "updated", "unchanged", "rejected", "errors"}` (the bulk API's answer):
    `rejected` counts the records with errors, each listed in `errors` as
    `{"index", "field", "message"}`. A record is written whole or not at all; valid records are
    written even when others are rejected. `dry_run` validates and counts what would happen,
    writing nothing. Raises PermissionDenied when the client may not send encounters at all and
    ValidationError when `source` is missing. Each batch written is one audited IngestBatch.
    """
    model = MODELS.get(kind)
    if model is None:
        raise ValueError(f"kind must be one of {list(MODELS)}, not {kind!r}")
    if not access.can_write(client, model):
        raise PermissionDenied(_("Your role may not send encounter records."))
    source = _clean_source(source)
    rows, errors = validate_records(kind, records, client=client)
    rejected = len({error["index"] for error in errors})
    if dry_run:
        created, updated = _count_changes(kind, rows, source=source)
    else:
        with transaction.atomic():
            now = timezone.now()
            _save_facilities(rows)
            created, updated, months = _upsert(kind, rows, client=client, source=source, now=now)
            batch = _record_batch(
                kind, client=client, source=source, now=now, counts=(created, updated, rows, rejected)
            )
            _mark_changed(months, batch)
    return {
        "created": created,
        "updated": updated,
        "unchanged": len(rows) - created - updated,
        "rejected": rejected,
        "errors": errors,
    }


def _clean_source(source):
    source = source.strip() if isinstance(source, str) else ""
    if not source:
        raise ValidationError({"source": _("Name the source system that sent these records.")})
    if len(source) > SOURCE_LENGTH:
        raise ValidationError(
            {"source": _("A source system name has at most %(max)d characters.") % {"max": SOURCE_LENGTH}}
        )
    return source


def _record_batch(kind, *, client, source, now, counts):
    """One audit entry per batch: who sent it, which kind and source, how many of each outcome.
    The audit log's actor is the client also when it authenticated by token (the auditlog
    middleware only knows session users)."""
    created, updated, rows, rejected = counts
    batch = IngestBatch.objects.create(
        client=client,
        kind=kind,
        source=source,
        received_at=now,
        created=created,
        updated=updated,
        unchanged=len(rows) - created - updated,
        rejected=rejected,
    )
    LogEntry.objects.get_for_object(batch).filter(actor__isnull=True).update(actor=client)
    return batch


def _mark_changed(months, batch):
    """Mark the measures of each `(alliance_id, month)` written dirty, the batch as the cause."""
    by_alliance = {}
    for alliance_id, month in months:
        by_alliance.setdefault(alliance_id, set()).add(month)
    for alliance_id, alliance_months in sorted(by_alliance.items()):
        measures.mark_changed(alliance_id, alliance_months, batch)


# --- Outside facilities (insurance feed) ---------------------------------------------------------
def _save_facilities(rows):
    """Create or refresh the outside facilities the insurance feed named (the latest name, region
    and level win) and put their ids on the rows."""
    named = {row["facility"]["code"]: row["facility"] for row in rows if "facility" in row}
    if not named:
        return
    OutsideFacility.objects.bulk_create(
        [OutsideFacility(**facility) for facility in named.values()], ignore_conflicts=True
    )
    stored = {facility.code: facility for facility in OutsideFacility.objects.filter(code__in=named)}
    changed = []
    for code, facility in named.items():
        row = stored[code]
        if any(getattr(row, key) != value for key, value in facility.items()):
            for key, value in facility.items():
                setattr(row, key, value)
            changed.append(row)
    OutsideFacility.objects.bulk_update(changed, ["name", "region_code", "level"])
    for row in rows:
        facility = row.pop("facility", None)
        if facility is not None:
            row["outside_facility_id"] = stored[facility["code"]].pk


def _existing_facility_ids(rows):
    """For a dry run: the ids of the outside facilities already known (new ones stay None)."""
    codes = {row["facility"]["code"] for row in rows if "facility" in row}
    known = dict(OutsideFacility.objects.filter(code__in=codes).values_list("code", "pk"))
    return [
        {**row, "outside_facility_id": known.get(row["facility"]["code"])} if "facility" in row else row
        for row in rows
    ]


# --- The upsert -----------------------------------------------------------------------------------
def _upsert(kind, rows, *, client, source, now):
    """Write the rows; return (created, updated, {(alliance_id, month)} of the records created
    or updated, an updated record's before and after)."""
    if not rows:
        return 0, 0, set()
    if connection.vendor == "postgresql":
        return _upsert_postgresql(kind, rows, client=client, source=source, now=now)
    return _upsert_plain(kind, rows, client=client, source=source, now=now)


def _upsert_postgresql(kind, rows, *, client, source, now):
    created = updated = 0
    months = set()
    for where in PLACES:
        group = [row for row in rows if row[where] is not None]
        if not group:
            continue
        sql, arrays = _upsert_statement(kind, where)
        # Key order: two batches touching the same records lock them in the same order, so they
        # wait for each other instead of deadlocking.
        group.sort(key=itemgetter(where, "external_id"))
        params = [client.pk, source, now, array_literal([row["external_id"] for row in group])]
        params += [array_literal([row[column] for row in group]) for column in arrays]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = cursor.fetchall()
        created += sum(new for _alliance, _month, new, _changed in written)
        updated += sum(changed for _alliance, _month, _new, changed in written)
        months.update((alliance_id, month) for alliance_id, month, _new, _changed in written)
    return created, updated, months


_STATEMENTS = {}


def _upsert_statement(kind, where):
    """The upsert of `kind` for the records of registered institutions or of outside facilities
    (`where`: the key's column; built once per process). It answers one row per (alliance,
    month) written, with how many records it created and updated there; an updated record's
    former (alliance, month) is a row too, counting neither: the outer SELECT reads the table as
    the statement began, before the INSERT in its WITH wrote anything (PostgreSQL runs both on
    one snapshot)."""
    if (kind, where) not in _STATEMENTS:
        model = MODELS[kind]
        quote = connection.ops.quote_name
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        alliance, month = (quote(model._meta.get_field(name).column) for name in ("alliance", "month"))
        written = f"t.{pk} AS id, t.{alliance} AS alliance, t.{month} AS month, (t.xmax = 0) AS created"
        # Identifiers come from the model's meta, quoted; every value is a parameter.
        _STATEMENTS[kind, where] = (
            f"WITH written AS ({_insert_on_conflict(kind, where)} RETURNING {written}) "  # noqa: S608
            "SELECT alliance, month, count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) "
            "FROM (SELECT alliance, month, created FROM written UNION ALL "
            f"SELECT was.{alliance}, was.{month}, NULL FROM written JOIN {table} AS was "
            f"ON was.{pk} = written.id WHERE NOT written.created) AS m GROUP BY alliance, month"
        )
    return _STATEMENTS[kind, where], COLUMNS[kind]


def _insert_on_conflict(kind, where):
    """`INSERT … SELECT FROM unnest(arrays) ON CONFLICT … DO UPDATE … WHERE (columns) IS
    DISTINCT FROM (EXCLUDED.columns)`: unchanged records are not written at all."""
    model, columns = MODELS[kind], COLUMNS[kind]
    fields = {field.attname: field for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    names = [quote(fields[column].column) for column in columns]
    types = [fields[column].db_type(connection) for column in columns]
    client, source, external_id, received_at = (
        quote(fields[name].column) for name in ("client_id", "source", "external_id", "received_at")
    )
    place = quote(fields[where].column)
    key = f"({place}, {source}, {external_id}) WHERE {place} IS NOT NULL"  # the partial unique index
    arrays = ", ".join(f"%s::{db_type}[]" for db_type in [fields["external_id"].db_type(connection), *types])
    return (
        f"INSERT INTO {quote(model._meta.db_table)} AS t "  # noqa: S608
        f"({client}, {source}, {received_at}, {external_id}, {', '.join(names)}) "
        f"SELECT %s, %s, %s::timestamptz, u.* FROM unnest({arrays}) AS u "
        f"ON CONFLICT {key} DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in [*names, received_at, client])
        + f" WHERE ({', '.join(f't.{name}' for name in names)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{name}' for name in names)})"
    )


def _upsert_plain(kind, rows, *, client, source, now):
    """The fallback without ON CONFLICT: read the existing rows by key once, create the new ones,
    update the changed ones."""
    model = MODELS[kind]
    new, changed = _plan(kind, rows, source=source)
    model.objects.bulk_create(
        [
            model(
                client=client,
                source=source,
                received_at=now,
                **_values(kind, row),
                external_id=row["external_id"],
            )
            for row in new
        ],
        batch_size=IN_CHUNK,
    )
    months = {(row["alliance_id"], row["month"]) for row in new}
    for instance, values in changed:
        months.add((instance.alliance_id, instance.month))  # where it counted until now
        for column, value in values.items():
            setattr(instance, column, value)
        instance.received_at, instance.client = now, client
        months.add((instance.alliance_id, instance.month))
    fields = [model._meta.get_field(column).name for column in COLUMNS[kind]]
    model.objects.bulk_update(
        [instance for instance, _values in changed], [*fields, "received_at", "client"], batch_size=IN_CHUNK
    )
    return len(new), len(changed), months


def _count_changes(kind, rows, *, source):
    """What an ingest would do, without writing: (would create, would update)."""
    new, changed = _plan(kind, _existing_facility_ids(rows), source=source)
    return len(new), len(changed)


def _plan(kind, rows, *, source):
    """Split rows into new ones and (stored row, new values) of changed ones; the rest are
    unchanged."""
    model = MODELS[kind]
    keys = sorted({row["external_id"] for row in rows})
    stored = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = model.objects.filter(source=source, external_id__in=keys[start : start + IN_CHUNK])
        stored.update((_key(instance), instance) for instance in chunk.order_by())
    new, changed = [], []
    for row in rows:
        instance, values = stored.get(_key(row)), _values(kind, row)
        if instance is None:
            new.append(row)
        elif any(getattr(instance, column) != value for column, value in values.items()):
            changed.append((instance, values))
    return new, changed


def _key(row):
    """(institution, outside facility, external id) of a row or a stored record: the upsert key
    beside the source."""
    get = row.get if isinstance(row, dict) else row.__dict__.get
    return get("institution_id"), get("outside_facility_id"), get("external_id")


def _values(kind, row):
    return {column: row[column] for column in COLUMNS[kind]}
