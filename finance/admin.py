"""Read-only admin views of the books for support staff; postings only through the
posting rules and `post_entry`, periods through the period services."""

from django.contrib import admin

from erp.admin import ReadOnlyAdmin
from finance.models import Account, JournalEntry, JournalLine, Period


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "type", "role", "channel", "active"]
    list_filter = ["type", "active"]
    list_select_related = ["channel"]
    search_fields = ["code", "name", "role"]


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    fields = ["account", "debit", "credit", "currency", "channel", "order", "sku", "location"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "date", "period", "source_kind", "source_ref", "event", "memo"]
    list_filter = ["source_kind", "event"]
    list_select_related = ["period"]
    search_fields = ["memo", "source_ref"]
    inlines = [JournalLineInline]


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "closed_by", "closed_at", "locked_by", "locked_at"]
    list_select_related = ["closed_by", "locked_by"]
