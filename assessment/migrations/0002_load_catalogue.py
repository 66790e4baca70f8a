"""Load the indicator catalogue (issue 14 point 3): the indicators whose code has no definition
yet, through the service, so a second run and the bureau's revisions are left alone."""

from django.db import migrations


def load(apps, schema_editor):
    from assessment.services import load_catalogue

    load_catalogue(acting_user=None, model=apps.get_model("assessment", "IndicatorDefinition"))


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
