"""Trigram indexes for the catalogue's substring search (issue 16 point 4), on PostgreSQL only:
`pg_trgm` GIN indexes serve `LIKE '%…%'` on the names, codes and pinyin keys. SQLite scans the
(one alliance's) catalogue instead, the embedded default's plain fallback (DESIGN §6)."""

from django.db import migrations

COLUMNS = ("generic_name", "trade_name", "nhsa_code", "standard_code", "search_keys")
CASE_FOLDED = ("generic_name", "trade_name")  # icontains compares UPPER(column)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        expression = f"UPPER({column}::text)" if column in CASE_FOLDED else column
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS drug_{column}_trgm ON pharmacy_drugcatalogueentry "
            f"USING gin (({expression}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS drug_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("pharmacy", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
