from typing import Any, ClassVar, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.pii import PiiField, PiiHashField
from gongzhi.org.models import OrgUnit


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    GRID_WORKER = "grid_worker", _("专职网格员")
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_PART_TIME = "grid_part_time", _("兼职网格员")
    GENERAL_GRID_LEADER = "general_grid_leader", _("总网格长")
    VILLAGE_ADMIN = "village_admin", _("村级管理员")
    # 村(社区)工作站 / 便民服务站: takes up and handles the village's general matters (seed 001: within 5 days),
    # dispatches inside the village and hands complex ones up to the township.
    VILLAGE_STATION = "village_station", _("村工作站")
    DISPATCHER = "dispatcher", _("指挥中心调度员")
    DEPT_HANDLER = "dept_handler", _("部门承办人")
    SUPERVISOR = "supervisor", _("督查员")
    MERCHANT = "merchant", _("商户")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")


class PartTimeKind(models.TextChoices):
    """The "3" of "1+1+3": part-time grid members from the police, the court and the bar."""

    POLICE = "police", _("片区民警")
    JUDGE = "judge", _("法官")
    LAWYER = "lawyer", _("法律顾问")
    OTHER = "other", _("其他")


STAFF_ROLES = frozenset(Role) - {Role.RESIDENT, Role.MERCHANT}
# Command-centre staff may (and are encouraged to) turn on a second factor.
COMMAND_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM_ADMIN})
FIELD_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_PART_TIME, Role.GENERAL_GRID_LEADER,
                         Role.VILLAGE_ADMIN, Role.VILLAGE_STATION})
# Posts that hold cases: a case held by their unit is theirs to take up, dispatch or hand up.
HOLDING_ROLES = frozenset({Role.DISPATCHER, Role.VILLAGE_STATION})
# The auth group holding `accounts.unmask_pii` (created by migration 0003); a name, so not translated.
UNMASK_PII_GROUP = "查看完整个人信息"


class User(AbstractUser):
    """Residents sign in by ID number + SMS code; staff by username + password (+ optional TOTP)."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("居民")
        STAFF = "staff", _("工作人员")

    kind = models.CharField(_("账号类型"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    real_name = models.CharField(_("姓名"), max_length=50, blank=True, default="")
    # A resident's ID number is what they claim until verified (linked to the population register's
    # record: registry.Resident.user, one account per record). Unverified accounts may claim the same ID on
    # different phones, so a stranger who knows someone's ID number cannot shut that person out.
    id_number = PiiField(_("身份证号"), kind="id_number")
    id_number_hash = PiiHashField(source="id_number", db_index=True)
    phone = PiiField(_("手机号"), kind="phone")
    phone_hash = PiiHashField(source="phone", db_index=True)
    # When the person proved control of `phone` with an SMS code. An account opened by staff for a resident
    # (代为登记) has none and cannot sign in until the resident signs up on that phone themselves.
    confirmed_at = models.DateTimeField(_("本人确认时间"), null=True, blank=True)
    # The TOTP secret is kept encrypted like other personal data (core.pii.encrypt).
    totp_secret = models.CharField(_("动态口令密钥"), max_length=128, blank=True, default="")
    totp_enabled = models.BooleanField(_("启用动态口令"), default=False)
    # Last accepted TOTP time step: a code seen once is refused again within its validity window.
    totp_last_step = models.BigIntegerField(_("动态口令最后使用时段"), default=0)
    # Per-object caches kept by accounts.policies, not database columns.
    _scope_paths: tuple[str, ...]
    _posts: list[tuple[str, str]]

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [("unmask_pii", _("查看完整身份证号和手机号"))]
        constraints = [models.UniqueConstraint(fields=["id_number_hash", "phone_hash"],
                                               name="user_unique_id_number_phone")]

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def can_sign_in_as_resident(self) -> bool:
        return self.kind == self.Kind.RESIDENT and self.is_active and self.confirmed_at is not None


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> "MembershipQuerySet":
        """Posts that count: held now, in a unit that still exists (a deactivated unit gives no role)."""
        return self.filter(is_active=True, unit__is_active=True)

    def staff(self) -> "MembershipQuerySet":
        """Active staff posts (not residents' or merchants')."""
        return self.active().filter(role__in=STAFF_ROLES)


class Membership(models.Model):
    """A post: a user holds a role in an org unit; their scope is that unit's subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships",
                             verbose_name=_("单位"))
    role = models.CharField(_("岗位"), max_length=25, choices=Role.choices)
    part_time_kind = models.CharField(_("兼职类别"), max_length=10, choices=PartTimeKind.choices,
                                      blank=True, default="")
    is_active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique_post")]
        indexes = [models.Index(fields=["unit", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self._forget_user_posts()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        self._forget_user_posts()
        return result

    def _forget_user_posts(self) -> None:
        """The posts and scope `accounts.policies` keeps on the user object are read again after a change
        made through it (a post given in the same request, or a test)."""
        for cached in ("_posts", "_scope_paths"):
            self.user.__dict__.pop(cached, None)


class SmsCode(models.Model):
    """A one-time login/sign-up code. Only its hash is stored; the phone only as a keyed hash."""

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("注册")
        LOGIN = "login", _("登录")
        REBIND = "rebind", _("换绑手机号")

    phone_hash = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_hash", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class DevSmsMessage(models.Model):
    """A text the development SMS backend "sent", for the development-only page (the phone encrypted)."""

    phone = PiiField(_("手机号"), kind="phone")
    message = models.CharField(_("内容"), max_length=500)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("开发短信")
        verbose_name_plural = _("开发短信")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone} {self.sent_at:%Y-%m-%d %H:%M}"


class AccountEvent(models.Model):
    """Who changed a resident's identity and why: verified in person, phone re-bound. Numbers only masked."""

    class Kind(models.TextChoices):
        VERIFIED_BY_PHONE = "verified_by_phone", _("登记手机号核验")
        VERIFIED_IN_PERSON = "verified_in_person", _("当面核验")
        PHONE_REBOUND = "phone_rebound", _("换绑手机号")
        CLAIMED = "claimed", _("本人确认代登记账号")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_events",
                             verbose_name=_("账号"))
    kind = models.CharField(_("事项"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("办理人"))
    reason = models.CharField(_("事由"), max_length=200, blank=True, default="")
    detail = models.CharField(_("说明"), max_length=200, blank=True, default="")
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("账号核验记录")
        verbose_name_plural = verbose_name
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
