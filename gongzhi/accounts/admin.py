"""Back-office admin for accounts. Personal numbers are shown masked and never editable here (a form field
would write the masked text back); unmasking goes through the audited reveal service."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import services
from gongzhi.accounts.models import AccountEvent, Membership, User
from gongzhi.core.clients import client_address
from gongzhi.core.errors import DomainError
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_id_number, normalize_phone


class StaffAdminLoginForm(AdminAuthenticationForm):
    """The admin login goes through staff_login, so lock-out applies here too. Accounts with a second
    factor sign in on the staff login page first; the session then opens the admin."""

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.staff_login(username=username, password=password,
                                                       client=client_address(self.request))
            except DomainError as exc:
                raise ValidationError(str(exc.message), code=exc.code) from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = StaffAdminLoginForm


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["unit", "role", "part_time_kind", "is_active"]
    raw_id_fields = ["unit"]
    extra = 0


class StaffCreationForm(forms.ModelForm):
    """Staff accounts only: residents create their own by SMS code."""

    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["username", "real_name"]

    def clean_password2(self):
        from django.contrib.auth.password_validation import validate_password

        p1, p2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if p1 != p2:
            raise ValidationError(gettext("两次输入的密码不一致。"))
        validate_password(p2)
        return p2

    def save(self, commit=True):
        user = super().save(commit=False)
        user.kind = User.Kind.STAFF
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = StaffCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "real_name", "password1", "password2")}),
    )
    fieldsets = (
        (None, {"fields": ("username", "password", "kind")}),
        (_("个人信息"), {"fields": ("real_name", "masked_id_number", "masked_phone", "email")}),
        (_("登录安全"), {"fields": ("confirmed_at", "totp_enabled")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["kind", "masked_id_number", "masked_phone", "confirmed_at", "totp_enabled", "last_login",
                       "date_joined"]
    list_display = ["username", "real_name", "kind", "masked_id_number", "masked_phone", "is_active"]
    list_filter = ["kind", "is_active", "is_staff", "totp_enabled"]
    search_fields = ["username", "real_name"]
    ordering = ["username"]
    inlines = [MembershipInline]
    actions = ["unlock_accounts", "disable_second_factor"]

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return str(obj.id_number) if obj.id_number else "—"

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return str(obj.phone) if obj.phone else "—"

    def get_search_results(self, request, queryset, search_term):
        """A full ID or phone number finds its account by keyed hash: ciphertext cannot be searched."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        lookups = ((normalize_id_number, "id_number_hash"), (normalize_phone, "phone_hash"))
        for normalize, hash_field in lookups:
            try:
                value = normalize(search_term)
            except DomainError:
                continue
            results |= queryset.filter(**{hash_field: keyed_hash(value)})
        return results, may_have_duplicates

    def _run(self, request, queryset, service, done_message):
        done = 0
        for user in queryset:
            try:
                service(actor=request.user, user=user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("解除登录限制"))
    def unlock_accounts(self, request, queryset):
        self._run(request, queryset, services.unlock_account, gettext("已解除%(n)d个账号的登录限制。"))

    @admin.action(description=_("停用动态口令"))
    def disable_second_factor(self, request, queryset):
        self._run(request, queryset, services.disable_totp, gettext("已停用%(n)d个账号的动态口令。"))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "role", "part_time_kind", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__real_name", "unit__name", "unit__code"]
    raw_id_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """Read-only: the record of who verified or re-bound whom, and why."""

    list_display = ["at", "user", "kind", "actor", "reason", "detail"]
    list_filter = ["kind"]
    list_select_related = ["user", "actor"]
    search_fields = ["user__real_name", "actor__real_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
