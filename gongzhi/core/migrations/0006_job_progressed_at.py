from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_job'),
    ]

    operations = [
        migrations.AddField(
            model_name='job',
            name='progressed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='最近进展'),
        ),
    ]
