"""Back-office admin for the points economy. The ledger, awards and redemptions are read-only here: every
change goes through the services (a correction is a new award), so the chain and the balances stay true."""

from django.contrib import admin

from gongzhi.points.models import Award, LedgerCheck, LedgerEntry, Redemption, RuleCategory, RuleItem, Shop, ShopItem


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleCategory)
class RuleCategoryAdmin(ReadOnlyAdmin):
    list_display = ["name", "township", "village", "order", "is_active"]
    list_filter = ["township"]


@admin.register(RuleItem)
class RuleItemAdmin(ReadOnlyAdmin):
    list_display = ["name", "category", "points", "cap_count", "cap_period", "awarder", "retired_at"]
    list_filter = ["category__township", "awarder"]
    search_fields = ["name"]


@admin.register(Shop)
class ShopAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "township", "village", "is_active"]
    list_filter = ["kind", "township"]


@admin.register(ShopItem)
class ShopItemAdmin(ReadOnlyAdmin):
    list_display = ["name", "shop", "price", "stock", "reserved", "is_active"]


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "rule_item", "origin", "points", "booked", "actor"]
    list_filter = ["origin"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "shop", "item", "quantity", "points", "status", "ended_at"]
    list_filter = ["status"]
    exclude = ["nonce"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "account", "amount", "source_type", "source_id", "memo"]
    list_filter = ["source_type"]


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "entries", "seconds", "ok"]
