"""Private files (issue 8): every /media/ URL is answered by finding its file by stored name, so the name
columns are indexed (AddIndex: a plain CREATE INDEX, no table copy on SQLite); and PendingUpload, the
photos uploaded before their report is sent.

0007 comes from a parallel branch; the dependency is set right when both are merged.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_case_personal_data_removed_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=32, unique=True)),
                ('file', models.FileField(upload_to='cases/%Y/%m/')),
                ('thumbnail', models.FileField(upload_to='cases/%Y/%m/thumbs/')),
                ('content_type', models.CharField(max_length=50)),
                ('sha256', models.CharField(max_length=64)),
                ('upload_sha256', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': '待提交的照片',
                'verbose_name_plural': '待提交的照片',
            },
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(fields=['file'], name='case_attachment_file'),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(fields=['thumbnail'], name='case_attachment_thumbnail'),
        ),
        migrations.AddIndex(
            model_name='mediationsession',
            index=models.Index(fields=['agreement'], name='case_mediation_agreement'),
        ),
        migrations.AddField(
            model_name='pendingupload',
            name='owner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='pendingupload',
            index=models.Index(fields=['file'], name='case_pending_upload_file'),
        ),
        migrations.AddIndex(
            model_name='pendingupload',
            index=models.Index(fields=['thumbnail'], name='case_pending_upload_thumbnail'),
        ),
        migrations.AddConstraint(
            model_name='pendingupload',
            constraint=models.UniqueConstraint(fields=('owner', 'upload_sha256'), name='pending_upload_once'),
        ),
    ]
