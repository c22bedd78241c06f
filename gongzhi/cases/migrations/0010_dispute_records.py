"""Disputes on screen (issue 9, item 5): parties get a role from a list; a mediation session names several
mediators (staff accounts, and others by name) and who recorded it; the signed agreement becomes a record of
its own (`MediationAgreement`: the file, the date signed, the performance follow-up); each record keeps the
log row that wrote it, so a replayed form finds it.

Existing rows are carried over: a session's single mediator becomes its recorder and its one mediator; an
agreement file becomes an agreement signed on the session's date, to be followed up 30 days later; free-text
roles become the matching choice (anything else 当事人).

0009 may be renumbered when merged with parallel branches that also add a cases migration.
"""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_ROLES = {"申请人": "applicant", "被申请人": "respondent", "第三人": "third"}


def carry_over(apps, schema_editor):
    DisputeParty = apps.get_model("cases", "DisputeParty")
    MediationSession = apps.get_model("cases", "MediationSession")
    MediationAgreement = apps.get_model("cases", "MediationAgreement")
    for text, value in _ROLES.items():
        DisputeParty.objects.filter(role=text).update(role=value)
    DisputeParty.objects.exclude(role__in=list(_ROLES.values())).update(role="party")
    for session in MediationSession.objects.all().iterator():
        session.mediators.add(session.recorded_by_id)
        if session.agreement_file:
            MediationAgreement.objects.create(
                case_id=session.case_id, session=session, file=session.agreement_file.name,
                signed_on=session.held_on, follow_up_on=session.held_on + datetime.timedelta(days=30))


def carry_back(apps, schema_editor):
    DisputeParty = apps.get_model("cases", "DisputeParty")
    MediationAgreement = apps.get_model("cases", "MediationAgreement")
    MediationSession = apps.get_model("cases", "MediationSession")
    for text, value in _ROLES.items():
        DisputeParty.objects.filter(role=value).update(role=text)
    DisputeParty.objects.filter(role="party").update(role="")
    for agreement in MediationAgreement.objects.exclude(file="").iterator():
        MediationSession.objects.filter(pk=agreement.session_id).update(agreement_file=agreement.file.name)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_assignment_person'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The old file column steps aside for the new record's reverse accessor (`session.agreement`) while its
        # contents are carried over, then goes.
        migrations.RemoveIndex(
            model_name='mediationsession',
            name='case_mediation_agreement',
        ),
        migrations.RenameField(
            model_name='mediationsession',
            old_name='agreement',
            new_name='agreement_file',
        ),
        migrations.AlterField(
            model_name='disputeparty',
            name='role',
            field=models.CharField(choices=[('applicant', '申请人'), ('respondent', '被申请人'), ('third', '第三人'), ('party', '当事人')], default='party', max_length=20, verbose_name='身份'),
        ),
        migrations.AddField(
            model_name='disputeparty',
            name='log',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.caselog'),
        ),
        migrations.RenameField(
            model_name='mediationsession',
            old_name='mediator',
            new_name='recorded_by',
        ),
        migrations.AlterField(
            model_name='mediationsession',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='登记人'),
        ),
        migrations.AddField(
            model_name='mediationsession',
            name='mediators',
            field=models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='调解员'),
        ),
        migrations.AddField(
            model_name='mediationsession',
            name='other_mediators',
            field=models.CharField(blank=True, default='', max_length=200, verbose_name='其他调解员'),
        ),
        migrations.AddField(
            model_name='mediationsession',
            name='log',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.caselog'),
        ),
        migrations.AlterField(
            model_name='mediationsession',
            name='kind',
            field=models.CharField(choices=[('people', '人民调解'), ('administrative', '行政调解'), ('judicial', '司法调解'), ('pre_litigation', '诉前调解'), ('industry', '行业性专业性调解')], max_length=16, verbose_name='调解类型'),
        ),
        migrations.CreateModel(
            name='MediationAgreement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(blank=True, default='', upload_to='mediation/%Y/', verbose_name='调解协议书')),
                ('signed_on', models.DateField(verbose_name='签订日期')),
                ('follow_up_on', models.DateField(verbose_name='履行回访日期')),
                ('performance', models.CharField(blank=True, choices=[('performed', '已履行'), ('partly', '部分履行'), ('not_performed', '未履行')], default='', max_length=16, verbose_name='履行情况')),
                ('performance_checked_on', models.DateField(blank=True, null=True, verbose_name='回访日期')),
                ('performance_note', models.TextField(blank=True, default='', verbose_name='回访情况')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agreements', to='cases.case')),
                ('log', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.caselog')),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='agreement', to='cases.mediationsession')),
            ],
            options={
                'verbose_name': '调解协议',
                'verbose_name_plural': '调解协议',
                'indexes': [models.Index(fields=['file'], name='case_agreement_file'), models.Index(condition=models.Q(('performance', 'performed'), _negated=True), fields=['follow_up_on'], name='case_agreement_follow_up')],
            },
        ),
        migrations.RunPython(carry_over, carry_back),
        migrations.RemoveField(
            model_name='mediationsession',
            name='agreement_file',
        ),
    ]
