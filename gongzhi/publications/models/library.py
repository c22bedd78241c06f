"""The libraries' own data (M25): a service guide's structured facts and a service link's address.

政策 and 法律法规 are plain publications (title, body, tags, attachments); 文书模板 are publications whose
attachments are the Word/Excel/PDF files to download (see `publications.office`); 办事指南 (`Guide`) and
便民服务 (`ServiceLink`) keep their extra fields here, one row per publication, made when staff first fill them.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.publications.models.core import Publication


class Guide(models.Model):
    """办事指南: what a resident needs to know before going to do a matter."""

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="guide",
                                       verbose_name=_("公开事项"))
    matter = models.CharField(_("办理事项"), max_length=100, blank=True, default="")
    # The documents to bring, one string each, in order (shown to residents as a checklist).
    materials = models.JSONField(_("所需材料"), default=list, blank=True)
    place = models.CharField(_("办理地点"), max_length=200, blank=True, default="")
    office_hours = models.CharField(_("办理时间"), max_length=200, blank=True, default="")
    fee = models.CharField(_("收费标准"), max_length=100, blank=True, default="")
    time_limit = models.CharField(_("办理时限"), max_length=100, blank=True, default="")
    online_url = models.URLField(_("网上办理链接"), max_length=300, blank=True, default="")
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("办事指南")
        verbose_name_plural = _("办事指南")

    def __str__(self) -> str:
        return self.matter or str(self.publication_id)


class ServiceLink(models.Model):
    """便民服务: a link to another government service (甘肃政务服务网, 社保查询, 12345 …), https only."""

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="service_link",
                                       verbose_name=_("公开事项"))
    url = models.URLField(_("链接地址"), max_length=300)
    phone = models.CharField(_("服务电话"), max_length=40, blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("便民服务链接")
        verbose_name_plural = _("便民服务链接")

    def __str__(self) -> str:
        return self.url
