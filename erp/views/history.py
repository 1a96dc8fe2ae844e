"""A record's change history (django-simple-history) as readable field diffs.

Queries stay constant in the number of history rows: one count, one page of records
with their users, one lookup per related model named in the diffs. Only the diff of a
many-to-many field reads its own snapshot rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import models
from django.utils.text import capfirst
from simple_history.utils import get_m2m_reverse_field_name

PAGE_SIZE = 50
CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "—"


@dataclass
class FieldChange:
    label: str
    old: str = ""
    new: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class HistoryEntry:
    record: models.Model
    change_type: str
    changes: list[FieldChange]


@dataclass
class HistoryPage:
    page: Page
    entries: list[HistoryEntry]


def record_history(instance: models.Model, page_number) -> HistoryPage:
    """Newest first; each change is diffed against the record just before it."""
    records = instance.history.select_related("history_user").order_by(
        "-history_date", "-history_id"
    )
    page = Paginator(records, PAGE_SIZE).get_page(page_number)
    start = (page.number - 1) * PAGE_SIZE
    # One record beyond the page: the predecessor the page's oldest change is diffed against.
    window = list(records[start : start + PAGE_SIZE + 1])
    pairs = list(zip(window[:PAGE_SIZE], [*window[1:], None], strict=False))
    deltas = [_delta(new, old) for new, old in pairs]
    labels = _RelatedLabels(type(instance), [change for delta in deltas for change in delta])
    entries = [
        HistoryEntry(
            record=new,
            change_type=CHANGE_TYPES.get(new.history_type, new.history_type),
            changes=[labels.describe(change) for change in delta],
        )
        for (new, _), delta in zip(pairs, deltas, strict=True)
    ]
    return HistoryPage(page=page, entries=entries)


def _delta(new, old) -> list:
    if old is None or new.history_type != "~":
        return []
    return list(new.diff_against(old).changes)


class _RelatedLabels:
    """Turns the ids in diffs into labels, one query per related model."""

    def __init__(self, model: type[models.Model], changes: list):
        self.model = model
        wanted: dict[type[models.Model], set] = defaultdict(set)
        for change in changes:
            related = self._related_model(change.field)
            if related is not None:
                wanted[related] |= self._ids(change.field, change.old) | self._ids(
                    change.field, change.new
                )
        self.objects = {
            related: related._base_manager.in_bulk([pk for pk in ids if pk is not None])
            for related, ids in wanted.items()
        }

    def _field(self, name: str) -> models.Field:
        return self.model._meta.get_field(name)

    def _related_model(self, name: str):
        model_field = self._field(name)
        return model_field.related_model if model_field.is_relation else None

    def _ids(self, name: str, value) -> set:
        if isinstance(self._field(name), models.ManyToManyField):
            target = get_m2m_reverse_field_name(self._field(name))
            return {row[target] for row in value}
        return {value}

    def _label(self, related, pk) -> str:
        if pk is None:
            return EMPTY
        found = self.objects[related].get(pk)
        return str(found) if found is not None else f"#{pk} (deleted)"

    def _plain(self, model_field: models.Field, value) -> str:
        if value is None or value == "":
            return EMPTY
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        return str(value)

    def describe(self, change) -> FieldChange:
        model_field = self._field(change.field)
        label = capfirst(model_field.verbose_name)
        related = self._related_model(change.field)
        if isinstance(model_field, models.ManyToManyField):
            old, new = self._ids(change.field, change.old), self._ids(change.field, change.new)
            return FieldChange(
                label=label,
                added=sorted(self._label(related, pk) for pk in new - old),
                removed=sorted(self._label(related, pk) for pk in old - new),
            )
        if related is not None:
            return FieldChange(
                label=label,
                old=self._label(related, change.old),
                new=self._label(related, change.new),
            )
        return FieldChange(
            label=label,
            old=self._plain(model_field, change.old),
            new=self._plain(model_field, change.new),
        )
