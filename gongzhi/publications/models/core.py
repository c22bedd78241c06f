"""The publishing core: one `Publication` row for everything published to residents, whatever its kind.

A publication has an author unit (in whose name it speaks), an audience unit (whose subtree's residents see
it; `audience_path` is that unit's path, copied so an area's items are one indexed `IN` query), a lifecycle
draft → in_review → published → withdrawn (returned drafts go back to draft) with every step in
`PublicationEvent`, an optional publication period (`publish_from`, `publish_until`: outside it nobody sees
the item, so a board's period ending removes it without a sweep), attachments and resident comments.

Kinds (红黑榜, 三务公开, 村民说事, notices and alerts, libraries, volunteer activities, suggestions) are data in
`publications.kinds` plus, where a kind needs more than the core holds, a table of its own with a one-to-one
link to its publication.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待审核")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class CommentMode(models.TextChoices):
    OFF = "off", _("不开放评论")
    MODERATED = "moderated", _("评论经审核后显示")
    OPEN = "open", _("评论直接显示")


class Publication(models.Model):
    kind = models.CharField(_("类别"), max_length=20, db_index=True)
    title = models.CharField(_("标题"), max_length=100)
    # Plain text; line breaks are kept on the page. Never HTML.
    body = models.TextField(_("正文"), blank=True, default="")
    author_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("发布单位"))
    audience_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("公开范围"))
    audience_path = models.CharField(_("公开范围路径"), max_length=400, editable=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # Comma-separated, with a comma before the first and after the last (",低保,医保,"), so one tag is a
    # `contains` match that cannot hit part of another.
    tags = models.CharField(_("标签"), max_length=200, blank=True, default="")
    pinned = models.BooleanField(_("置顶"), default=False)
    comments = models.CharField(_("评论"), max_length=10, choices=CommentMode.choices, default=CommentMode.OFF)
    publish_from = models.DateTimeField(_("公开开始"), null=True, blank=True)
    publish_until = models.DateTimeField(_("公开截止"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("创建人"))
    # A form sent twice (a double tap, a retry on weak signal) creates one draft.
    client_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公开事项")
        verbose_name_plural = _("公开事项")
        ordering = ["-pinned", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "client_key"], condition=~Q(client_key=""),
                                    name="publication_client_key"),
            models.CheckConstraint(
                condition=Q(publish_until__isnull=True) | Q(publish_from__isnull=True)
                | Q(publish_until__gt=models.F("publish_from")),
                name="publication_period_order"),
        ]
        indexes = [
            # A resident's area: kind, status and the few ancestor paths of their grid, newest first.
            models.Index(fields=["kind", "status", "audience_path", "-published_at"], name="publication_area_idx"),
            models.Index(fields=["status", "audience_path", "-published_at"], name="publication_feed_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if self.audience_unit_id is not None and not self.audience_path:
            self.audience_path = OrgUnit.objects.values_list("path", flat=True).get(pk=self.audience_unit_id)
        super().save(*args, **kwargs)

    @property
    def kind_label(self) -> str:
        from gongzhi.publications import kinds  # kinds names models only for typing

        spec = kinds.get(self.kind)
        return str(spec.label) if spec else self.kind

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    def is_live(self, now=None) -> bool:
        """Published and inside its period."""
        now = now or timezone.now()
        return (self.status == Status.PUBLISHED and (self.publish_from is None or self.publish_from <= now)
                and (self.publish_until is None or self.publish_until > now))


class PublicationEvent(models.Model):
    """Who did what to a publication and when; written by the services with every change of status."""

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        EDIT = "edit", _("修改")
        SUBMIT = "submit", _("提交审核")
        RETURN = "return", _("退回修改")
        APPROVE = "approve", _("审核通过")
        PUBLISH = "publish", _("发布")
        WITHDRAW = "withdraw", _("撤回")
        # A kind's own steps (a board's appeal decided, a meeting's stage published …) log with a note.
        STEP = "step", _("办理")

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="events",
                                    verbose_name=_("公开事项"))
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("操作人"))
    from_status = models.CharField(_("原状态"), max_length=12, choices=Status.choices, blank=True, default="")
    to_status = models.CharField(_("新状态"), max_length=12, choices=Status.choices, blank=True, default="")
    note = models.CharField(_("说明"), max_length=500, blank=True, default="")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公开事项记录")
        verbose_name_plural = _("公开事项记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.publication_id} {self.action}"


class Attachment(models.Model):
    """A file of a publication: a photo (processed, with a thumbnail) or a document to download."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="attachments",
                                    verbose_name=_("公开事项"))
    file = models.FileField(_("文件"), upload_to="publications/%Y/%m/", max_length=200)
    thumbnail = models.FileField(_("缩略图"), upload_to="publications/thumbs/%Y/%m/", max_length=200,
                                 blank=True, default="")
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小"), default=0)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Comment(models.Model):
    """A resident's comment or question on a publication, with the publishing unit's answer.

    Under moderated comments a new one waits (`pending`) until staff show it; staff may hide any comment
    (with a reason, kept). Answering a comment shows it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        VISIBLE = "visible", _("已显示")
        HIDDEN = "hidden", _("已隐藏")

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="comment_set",
                                    verbose_name=_("公开事项"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("评论人"))
    body = models.TextField(_("内容"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    answer = models.TextField(_("答复"), blank=True, default="")
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("答复人"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("审核人"))
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    hidden_reason = models.CharField(_("隐藏原因"), max_length=200, blank=True, default="")
    client_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("发表时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_key"], condition=~Q(client_key=""),
                                    name="publication_comment_client_key"),
        ]
        indexes = [models.Index(fields=["publication", "state", "created_at"], name="publication_comment_idx")]

    def __str__(self) -> str:
        return f"#{self.publication_id} {self.author_id}"


class ReadMark(models.Model):
    """A resident has opened an area publication: the inbox reads area items by query (no row per resident per
    notice), so only what someone has read gets a row."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="+",
                                    verbose_name=_("公开事项"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("用户"))
    read_at = models.DateTimeField(_("阅读时间"), default=timezone.now)

    class Meta:
        verbose_name = _("阅读记录")
        verbose_name_plural = _("阅读记录")
        constraints = [models.UniqueConstraint(fields=["user", "publication"], name="publication_read_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read #{self.publication_id}"
