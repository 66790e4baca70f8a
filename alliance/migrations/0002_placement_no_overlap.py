"""PostgreSQL only: an exclusion constraint so that the placement periods of one institution never
overlap, whatever writes them. SQLite keeps the same rule in alliance.services (DESIGN §6)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE alliance_placement ADD CONSTRAINT placement_no_overlap
    EXCLUDE USING gist (institution_id WITH =, daterange(valid_from, valid_to, '[)') WITH &&);
"""
DROP = "ALTER TABLE alliance_placement DROP CONSTRAINT IF EXISTS placement_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("alliance", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
