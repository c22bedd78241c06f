"""Fewer indexes on the case tables, which every submission and every sweep step writes (issue 10): nine
dropped (none covered by another's prefix; `caselog.created_at`, which nothing queried), five partial ones
for columns most rows leave empty. A resident's report now writes eight index entries fewer.

Dropped by name rather than by AlterField, which on SQLite copies the whole table once per field. The
names are Django's own for these columns, the same on SQLite and PostgreSQL (which also has a `_like`
index for the status column).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_caselog_client_key'),
        ('org', '0003_drop_grid_index_version'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='entered_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='代报人'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='holder',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.orgunit', verbose_name='承办层级'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='merged_into',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_cases', to='cases.case', verbose_name='并入事件'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='status',
                    field=models.CharField(choices=[('reported', '已上报'), ('accepted', '已受理'), ('rejected', '不予受理'), ('dispatched', '已派单'), ('in_progress', '正在办理'), ('handled', '已办结'), ('confirmed', '已回访'), ('closed', '已完成'), ('rated', '已评价'), ('returned', '已退回'), ('escalated', '已上报上级'), ('deferred', '已挂账'), ('reopened', '重新办理')], default='reported', max_length=12, verbose_name='状态'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='subject_unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.orgunit', verbose_name='被投诉单位'),
                ),
                migrations.AlterField(
                    model_name='caselog',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
                ),
                migrations.AlterField(
                    model_name='caselog',
                    name='actor_unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.orgunit'),
                ),
                migrations.AlterField(
                    model_name='caselog',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='logs', to='cases.case'),
                ),
                migrations.AlterField(
                    model_name='caselog',
                    name='created_at',
                    field=models.DateTimeField(auto_now_add=True),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_status_95787cb3"', 'CREATE INDEX "cases_case_status_95787cb3" ON "cases_case" ("status")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_status_95787cb3_like"', migrations.RunSQL.noop),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_holder_id_84f58973"', 'CREATE INDEX "cases_case_holder_id_84f58973" ON "cases_case" ("holder_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_entered_by_id_695af122"', 'CREATE INDEX "cases_case_entered_by_id_695af122" ON "cases_case" ("entered_by_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_subject_unit_id_3b3d4202"', 'CREATE INDEX "cases_case_subject_unit_id_3b3d4202" ON "cases_case" ("subject_unit_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_merged_into_id_1b4320d8"', 'CREATE INDEX "cases_case_merged_into_id_1b4320d8" ON "cases_case" ("merged_into_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_caselog_case_id_86ecaa53"', 'CREATE INDEX "cases_caselog_case_id_86ecaa53" ON "cases_caselog" ("case_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_caselog_created_at_0f030dca"', 'CREATE INDEX "cases_caselog_created_at_0f030dca" ON "cases_caselog" ("created_at")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_caselog_actor_id_6bc024de"', 'CREATE INDEX "cases_caselog_actor_id_6bc024de" ON "cases_caselog" ("actor_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_caselog_actor_unit_id_c613733c"', 'CREATE INDEX "cases_caselog_actor_unit_id_c613733c" ON "cases_caselog" ("actor_unit_id")'),
            ],
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('entered_by__isnull', False)), fields=['entered_by'], name='case_entered_by_set'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('subject_unit__isnull', False)), fields=['subject_unit'], name='case_subject_unit_set'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='case_merged_into_set'),
        ),
        migrations.AddIndex(
            model_name='caselog',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='case_log_actor_set'),
        ),
        migrations.AddIndex(
            model_name='caselog',
            index=models.Index(condition=models.Q(('actor_unit__isnull', False)), fields=['actor_unit'], name='case_log_actor_unit_set'),
        ),
    ]
