from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("共治 · 系统管理")
admin.site.site_title = _("共治 · 系统管理")
admin.site.index_title = _("数据与配置")
admin.site.site_url = "/command/"
