"""Read-only back-office views of notifications and outgoing messages (for tracing "I got no SMS")."""

from django.contrib import admin

from gongzhi.notifications.models import Delivery, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("channel", "status", "attempts", "last_error", "queued_at", "sent_at")
    readonly_fields = ("channel", "status", "attempts", "last_error", "queued_at", "sent_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "recipient", "created_at", "read_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["title", "kind", "dedupe_key", "recipient__username", "recipient__real_name"]
    raw_id_fields = ["recipient"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["notification", "channel", "status", "attempts", "last_error", "queued_at", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["notification__title", "last_error"]
    raw_id_fields = ["notification"]
    list_select_related = ["notification"]
