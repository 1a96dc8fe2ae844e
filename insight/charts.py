"""Chart geometry for the server-drawn SVG: the template draws what these return (points of
a time series, bars by channel or node), each mark carrying the link to the records behind
it. No JavaScript, no chart library."""

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT, PAD = 560, 160, 24
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_WIDTH = 18, 6, 110, 380


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: Decimal | None
    url: str


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    label: str
    value: Decimal | None
    url: str


def _scale(values: list[Decimal | None]) -> Decimal:
    largest = max((value for value in values if value is not None), default=Decimal(0))
    return largest if largest > 0 else Decimal(1)


def series(rows: list[dict], url) -> dict:
    """A line over the buckets; gaps (no orders) are left out of the line."""
    scale = _scale([row["value"] for row in rows])
    step = (WIDTH - 2 * PAD) / max(len(rows) - 1, 1)
    points = [
        Point(
            x=round(PAD + index * step, 1),
            y=round(HEIGHT - PAD - float(row["value"] / scale) * (HEIGHT - 2 * PAD), 1)
            if row["value"] is not None
            else HEIGHT - PAD,
            label=str(row["key"]),
            value=row["value"],
            url=url(row["key"]),
        )
        for index, row in enumerate(rows)
    ]
    line = " ".join(f"{p.x},{p.y}" for p in points if p.value is not None)
    return {
        "points": points,
        "line": line,
        "width": WIDTH,
        "height": HEIGHT,
        "top": scale,
        "base_y": HEIGHT - PAD,
        "pad": PAD,
        "right": WIDTH - PAD,
        "first": points[0].label if points else "",
        "last": points[-1].label if points else "",
    }


def bars(rows: list[dict], url) -> dict:
    scale = _scale([row["value"] for row in rows])
    items = [
        Bar(
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=round(float((row["value"] or 0) / scale) * BAR_WIDTH, 1),
            label=str(row["key"] or "unallocated"),
            value=row["value"],
            url=url(row["key"]),
        )
        for index, row in enumerate(rows)
    ]
    return {
        "bars": items,
        "height": max(len(items) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT),
        "width": LABEL_WIDTH + BAR_WIDTH + 70,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "value_x": LABEL_WIDTH + BAR_WIDTH + 6,
    }
