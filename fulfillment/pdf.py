"""Printable documents: the 4×6 inch shipping label and the packing slip (PDF bytes).

Pure rendering: they read the rows they are given (and their relations) and write nothing.
Text uses the PDF standard fonts (Helvetica), which cover Latin-1; addresses in other
scripts print with missing glyphs, as most 203-dpi label printers would.
"""

from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from fulfillment.models import Package, Shipment

LABEL_SIZE = (4 * inch, 6 * inch)  # 288 × 432 pt
LABEL_MARGIN = 14
BARCODE_HEIGHT = 72
BARCODE_MAX_BAR_WIDTH = 1.6  # points per module; ~4.5 dots at 203 dpi
SLIP_MARGIN = 0.6 * inch
SLIP_ROW = 16


def order_reference(order) -> str:
    return f"{order.channel.code} {order.order_number or order.external_id}"


def render_label_pdf(shipment: Shipment) -> bytes:
    """A 4×6 label: ship-from, ship-to, carrier and service, a Code128 barcode of the
    tracking number (and the number in text), the order reference, package and weight."""
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=LABEL_SIZE, pageCompression=1)
    pdf.setTitle(f"Label {shipment.tracking_number}")
    width, height = LABEL_SIZE
    inner = width - 2 * LABEL_MARGIN
    order, node, package = shipment.order, shipment.location, shipment.package
    y = height - LABEL_MARGIN - 8
    y = _block(pdf, "FROM", [node.name, f"{node.code} · {node.region}"], y, inner, size=8)
    y = _rule(pdf, y - 4, width)
    name, *address = order.ship_to_lines or ["(no ship-to address)"]
    pdf.setFont("Helvetica", 7)
    pdf.drawString(LABEL_MARGIN, y - 12, "SHIP TO")
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(LABEL_MARGIN, y - 28, _fit(name, "Helvetica-Bold", 13, inner))
    y = _lines(pdf, address, y - 44, inner, font="Helvetica", size=11, leading=14)
    y = _rule(pdf, y - 2, width)
    service = shipment.service.name if shipment.service else "External"
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(
        LABEL_MARGIN,
        y - 20,
        _fit(f"{shipment.carrier.name} · {service}", "Helvetica-Bold", 14, inner),
    )
    y = _barcode(pdf, shipment.tracking_number, y - 30 - BARCODE_HEIGHT, width)
    pdf.setFont("Helvetica", 7)
    pdf.drawString(LABEL_MARGIN, y - 14, "TRACKING #")
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(LABEL_MARGIN + 48, y - 14, shipment.tracking_number)
    y = _rule(pdf, y - 24, width)
    details = [f"Order {order_reference(order)}"]
    if package is not None:
        details.append(f"Package {package.number} · {_kilograms(package.weight_grams)}")
    details.append(f"Shipment {shipment.number} · {timezone.localdate(shipment.created_at)}")
    _lines(pdf, details, y - 16, inner, font="Helvetica", size=10, leading=13)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_packing_slip_pdf(package: Package) -> bytes:
    """A Letter page (more when needed) listing what is in this package: SKU, title, qty."""
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=LETTER, pageCompression=1)
    pdf.setTitle(f"Packing slip {package.number}")
    order = package.order
    lines = list(package.lines.select_related("line__sku").order_by("line__line_number"))
    page = 1
    y = _slip_header(pdf, order, package, page)
    for item in lines:
        if y < SLIP_MARGIN + SLIP_ROW:
            pdf.showPage()
            page += 1
            y = _slip_header(pdf, order, package, page)
        _slip_row(pdf, item, y)
        y -= SLIP_ROW
    pdf.setFont("Helvetica-Bold", 10)
    total = sum(item.quantity for item in lines)
    pdf.drawRightString(LETTER[0] - SLIP_MARGIN, y - 6, f"Units in this package: {total}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _slip_header(pdf, order, package, page: int) -> float:
    width, height = LETTER
    left, right = SLIP_MARGIN, width - SLIP_MARGIN
    y = height - SLIP_MARGIN
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(left, y - 18, "Packing slip")
    pdf.setFont("Helvetica", 9)
    pdf.drawRightString(right, y - 10, f"Package {package.number} · page {page}")
    pdf.drawRightString(right, y - 22, f"Packed {timezone.localdate(package.packed_at)}")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(left, y - 40, f"Order {order_reference(order)}")
    pdf.drawString(left, y - 54, f"Placed {timezone.localdate(order.placed_at)}")
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(left + 260, y - 40, "Ship to")
    y = _lines(
        pdf, order.ship_to_lines, y - 54, 240, font="Helvetica", size=10, leading=13, x=left + 260
    )
    y = min(y, height - SLIP_MARGIN - 70) - 16
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, "SKU")
    pdf.drawString(left + 130, y, "Item")
    pdf.drawRightString(right, y, "Qty")
    pdf.line(left, y - 4, right, y - 4)
    return y - SLIP_ROW - 2


def _slip_row(pdf, item, y: float) -> None:
    left, right = SLIP_MARGIN, LETTER[0] - SLIP_MARGIN
    line = item.line
    sku_code = line.sku.code if line.sku else line.channel_sku
    title = line.title or (line.sku.name if line.sku else "")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(left, y, _fit(sku_code, "Helvetica", 10, 124))
    pdf.drawString(left + 130, y, _fit(title, "Helvetica", 10, right - left - 180))
    pdf.drawRightString(right, y, str(item.quantity))


def _barcode(pdf, value: str, y: float, page_width: float) -> float:
    """Code128 of `value`, centred, as wide as fits (quiet zones included); returns its top."""
    probe = Code128(value, barWidth=1, barHeight=BARCODE_HEIGHT, humanReadable=False)
    bar_width = min(BARCODE_MAX_BAR_WIDTH, (page_width - 2 * 6) / probe.width)
    barcode = Code128(value, barWidth=bar_width, barHeight=BARCODE_HEIGHT, humanReadable=False)
    barcode.drawOn(pdf, (page_width - barcode.width) / 2, y)
    return y


def _block(pdf, title, lines, y, width, *, size) -> float:
    pdf.setFont("Helvetica", 7)
    pdf.drawString(LABEL_MARGIN, y, title)
    return _lines(pdf, lines, y - size - 3, width, font="Helvetica", size=size, leading=size + 3)


def _lines(pdf, lines, y, width, *, font, size, leading, x=LABEL_MARGIN) -> float:
    pdf.setFont(font, size)
    for text in lines:
        pdf.drawString(x, y, _fit(text, font, size, width))
        y -= leading
    return y + leading - size


def _rule(pdf, y, page_width) -> float:
    pdf.setLineWidth(1)
    pdf.line(LABEL_MARGIN / 2, y, page_width - LABEL_MARGIN / 2, y)
    return y


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut `text` to `width` points, ending in an ellipsis when cut."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _kilograms(grams: int) -> str:
    return f"{Decimal(grams) / 1000:.2f} kg"
