from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0005_dashboard_rollups'),
    ]

    operations = [
        migrations.AlterField(
            model_name='warning',
            name='kind',
            field=models.CharField(choices=[('repeat_dispute', '重复纠纷'), ('marriage_family', '民转刑风险'), ('hotspot', '事件高发'), ('overdue_cluster', '超期积压'), ('unvisited_key_person', '重点人员未按期走访')], max_length=20, verbose_name='预警类型'),
        ),
    ]
