"""Purchase orders as files for suppliers who take files: CSV and a one-table PDF.

Pure rendering from the PO document the outbox sends (`sending.purchase_order_document`),
so the file, the e-mail and the webhook always say the same thing.
"""

import csv
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from purchasing.services.sending import purchase_order_document

CSV_COLUMNS = (
    "po_number",
    "line",
    "sku",
    "supplier_sku",
    "description",
    "quantity",
    "unit_cost",
    "currency",
    "amount",
    "expected_date",
    "ship_to",
)


def _csv_safe(value) -> str:
    """Spreadsheets run text starting with = + - @ as a formula: quote it as text."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def render_purchase_order_csv(purchase_order) -> str:
    document = purchase_order_document(purchase_order)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in document["lines"]:
        writer.writerow(
            [
                _csv_safe(value)
                for value in (
                    document["number"],
                    line["line"],
                    line["sku"],
                    line["supplier_sku"],
                    line["description"],
                    line["quantity"],
                    line["unit_cost"],
                    document["currency"],
                    line["amount"],
                    line["expected_date"] or "",
                    document["ship_to"]["code"],
                )
            ]
        )
    return buffer.getvalue()


MARGIN = 18 * mm
ROW = 14
COLUMNS = (  # (heading, key, x offset in mm, right-aligned)
    ("#", "line", 0, False),
    ("SKU", "sku", 8, False),
    ("Supplier SKU", "supplier_sku", 40, False),
    ("Description", "description", 72, False),
    ("Qty", "quantity", 128, True),
    ("Unit cost", "unit_cost", 148, True),
    ("Amount", "amount", 172, True),
)


def _fit(text: str, width: float, font="Helvetica", size=8) -> str:
    text = str(text)
    while text and stringWidth(text, font, size) > width:
        text = text[:-2] + "…" if len(text) > 2 else ""
    return text


def render_purchase_order_pdf(purchase_order) -> bytes:
    document = purchase_order_document(purchase_order)
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Purchase order {document['number']}")
    width, height = A4
    y = height - MARGIN
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(MARGIN, y, f"Purchase order {document['number']}")
    pdf.setFont("Helvetica", 10)
    y -= 20
    for text in (
        f"Supplier: {document['supplier']['name']} ({document['supplier']['code']})",
        f"Ship to: {document['ship_to']['name']} ({document['ship_to']['code']})",
        f"Currency: {document['currency']}    Expected: {document['expected_date'] or '—'}",
    ):
        pdf.drawString(MARGIN, y, _fit(text, width - 2 * MARGIN, size=10))
        y -= 14
    y -= 8

    def heading(y):
        pdf.setFont("Helvetica-Bold", 8)
        for title, _, offset, right in COLUMNS:
            x = MARGIN + offset * mm
            (pdf.drawRightString if right else pdf.drawString)(
                x + (16 * mm if right else 0), y, title
            )
        pdf.line(MARGIN, y - 3, width - MARGIN, y - 3)
        pdf.setFont("Helvetica", 8)
        return y - ROW

    y = heading(y)
    for line in document["lines"]:
        if y < MARGIN + 2 * ROW:
            pdf.showPage()
            y = heading(height - MARGIN)
        for _, key, offset, right in COLUMNS:
            x = MARGIN + offset * mm
            value = line[key]
            if right:
                pdf.drawRightString(x + 16 * mm, y, str(value))
            else:
                pdf.drawString(x, y, _fit(value, 30 * mm if key != "description" else 54 * mm))
        y -= ROW
    pdf.line(MARGIN, y + ROW - 4, width - MARGIN, y + ROW - 4)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawRightString(
        MARGIN + 188 * mm, y - 4, f"Total {document['total']} {document['currency']}"
    )
    if document["note"]:
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            MARGIN, y - 24, _fit(f"Note: {document['note']}", width - 2 * MARGIN, size=9)
        )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
