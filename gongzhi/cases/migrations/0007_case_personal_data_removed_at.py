"""Scheduled anonymisation (issue 8, B3): when a closed case had its residents' personal data removed, a
partial index on closing time for the cases still to do, and a rating's rater and an attachment's uploader
may be empty (forgotten) so the score and the photo can stay. On SQLite the two AlterFields copy the
ratings and attachments tables once."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_fewer_indexes'),
        ('org', '0003_drop_grid_index_version'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='personal_data_removed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='个人信息删除时间'),
        ),
        migrations.AlterField(
            model_name='attachment',
            name='uploaded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='rating',
            name='rater',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', False), ('personal_data_removed_at__isnull', True)), fields=['closed_at'], name='case_closed_keeping_data'),
        ),
    ]
