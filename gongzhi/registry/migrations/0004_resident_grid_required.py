import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0003_population_data"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="resident",
            name="is_floating",
        ),
        migrations.AlterField(
            model_name="resident",
            name="grid",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="org.orgunit",
                                    verbose_name="网格"),
        ),
    ]
