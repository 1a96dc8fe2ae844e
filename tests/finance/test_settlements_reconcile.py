"""Import + reconciliation with known answers: matches, each kind of variance, the
postings (bank, receivable cleared, fee true-up, clearing), re-import as a no-op, nothing
written on bad input, accept/dispute, and the queries a settlement costs."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.errors import Conflict, NotPermitted, ValidationFailed
from finance.models import (
    JournalEntry,
    JournalLine,
    MatchStatus,
    Settlement,
    SettlementLine,
    SettlementOrder,
    SettlementState,
    SettlementVariance,
    VarianceKind,
    VarianceState,
)
from finance.services.chart import accounts_for
from finance.services.settlements import accept_variance, dispute_variance, import_settlement
from finance.services.verification import ledger_differences
from tests.factories.erp import ChannelFactory
from tests.factories.settlements import booked_order, booked_refund, fixture

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def amazon(db):
    return ChannelFactory(code="AMZ", kind="amazon", fee_rate=D("0.15"))


@pytest.fixture
def shopify(db):
    return ChannelFactory(code="SHOP", kind="shopify", fee_rate=D("0.0320"))


@pytest.fixture
def ebay(db):
    return ChannelFactory(code="EBAY", kind="ebay", fee_rate=D("0.1320"))


def balance(role, channel=None, order=None) -> Decimal:
    account = accounts_for({role}, channel_id=channel.pk if channel else None)[role]
    rows = JournalLine.objects.filter(account_id=account)
    if order is not None:
        rows = rows.filter(order=order)
    return sum((line.debit - line.credit for line in rows), D("0"))


def amazon_books(amazon):
    """The three Amazon orders of the sample on the books; the refunded one was paid in
    the previous settlement and its refund posted since."""
    first = booked_order(amazon, "112-4829304-5566021", sale="58.47", tax="5.00", fee="8.77")
    second = booked_order(amazon, "114-7730021-3349812", sale="19.99", tax="1.65")
    refunded = booked_order(amazon, "113-1029384-7712093", sale="24.99", tax="2.06")
    return first, second, refunded


def test_amazon_known_answers(amazon, finance_user, books_balance):
    first, second, refunded = amazon_books(amazon)
    previous = import_settlement(
        channel=amazon,
        source="amazon_v2",
        data=fixture("amazon_settlement_v2_previous.tsv"),
        actor=finance_user,
    ).settlement
    assert previous.state == SettlementState.RECONCILED
    # The receivable is cleared per channel in the ledger, per order in SettlementOrder.
    row = SettlementOrder.objects.get(settlement=previous, order=refunded)
    assert (row.receivable_cleared, row.fee_cleared) == (D("23.30"), D("3.75"))
    assert balance("receivable", amazon) == D("58.47") + D("5.00") - D("8.77") + D("21.64") - D(
        "3.00"
    )
    booked_refund(refunded, "27.05")

    result = import_settlement(
        channel=amazon,
        source="amazon_v2",
        data=fixture("amazon_settlement_v2.tsv"),
        actor=finance_user,
        file_name="amazon.tsv",
    )
    settlement = result.settlement
    assert result.created
    assert (settlement.line_count, settlement.order_count, settlement.matched_orders) == (20, 3, 3)
    statuses = dict(
        SettlementLine.objects.filter(settlement=settlement)
        .values_list("line_no", "status")
        .order_by("line_no")
    )
    assert {statuses[n] for n in range(3, 19)} == {MatchStatus.MATCHED}
    # Refund commission, subscription and label: fees nobody expected, posted as they are.
    assert statuses[19] == statuses[20] == statuses[21] == MatchStatus.POSTED
    assert statuses[22] == MatchStatus.VARIANCE  # reimbursement: finance reviews it
    (variance,) = SettlementVariance.objects.filter(settlement=settlement)
    assert (variance.kind, variance.difference, variance.expected) == (
        VarianceKind.ADJUSTMENT,
        D("12.50"),
        D("0"),
    )
    # Every receivable of the three orders is cleared; the refund expected its fee back.
    assert balance("receivable", amazon) == D("0")
    refund_row = SettlementOrder.objects.get(settlement=settlement, order=refunded)
    assert (refund_row.expected_gross, refund_row.actual_gross) == (D("-27.05"), D("-27.05"))
    assert (refund_row.expected_fee, refund_row.actual_fee) == (D("-3.75"), D("-3.75"))
    assert balance("bank") == D("8.79") + D("21.24")
    assert balance("clearing", amazon) == D("-12.50")  # the reimbursement, until accepted
    entry = JournalEntry.objects.get(
        source_kind="settlement", source_id=settlement.pk, event="finance.settlement_posted"
    )
    # The fee reversal the refund earned is posted on its order (margin reads it).
    assert balance("marketplace_fees", order=refunded) == D("0")
    assert settlement.journal_entry == entry
    assert ledger_differences().clean


def test_reimport_same_file_or_same_settlement_changes_nothing(amazon, finance_user):
    amazon_books(amazon)
    data = fixture("amazon_settlement_v2.tsv")
    first = import_settlement(channel=amazon, source="amazon_v2", data=data, actor=finance_user)
    counts = (
        Settlement.objects.count(),
        SettlementLine.objects.count(),
        JournalEntry.objects.count(),
        SettlementVariance.objects.count(),
    )
    again = import_settlement(channel=amazon, source="amazon_v2", data=data, actor=finance_user)
    # The same settlement in a file that differs (a trailing blank line): still the first.
    other_bytes = import_settlement(
        channel=amazon, source="amazon_v2", data=data + b"\n", actor=finance_user
    )
    assert not again.created and not other_bytes.created
    assert again.settlement == other_bytes.settlement == first.settlement
    assert counts == (
        Settlement.objects.count(),
        SettlementLine.objects.count(),
        JournalEntry.objects.count(),
        SettlementVariance.objects.count(),
    )


def test_bad_input_writes_nothing(amazon, finance_user):
    text = fixture("amazon_settlement_v2.tsv").decode().replace("\t19.99\t", "\t19,99\t")
    with pytest.raises(ValidationFailed, match="Line 11: amount '19,99' has a decimal comma"):
        import_settlement(
            channel=amazon, source="amazon_v2", data=text.encode(), actor=finance_user
        )
    assert not Settlement.objects.exists() and not JournalEntry.objects.exists()


def test_wrong_format_for_the_channel_and_permission(amazon, shopify, warehouse_user, finance_user):
    with pytest.raises(ValidationFailed, match="settles with amazon_v2"):
        import_settlement(
            channel=amazon,
            source="shopify_payments",
            data=fixture("shopify_balance_transactions.json"),
            actor=finance_user,
        )
    with pytest.raises(NotPermitted):
        import_settlement(
            channel=amazon,
            source="amazon_v2",
            data=fixture("amazon_settlement_v2.tsv"),
            actor=warehouse_user,
        )


def test_one_variance_of_each_kind(shopify, finance_user, books_balance):
    """Shopify sample: the first charge matches; the second is charged 1.90 where the
    fee rate expects 1.76 (fee mismatch); the refunded order was never refunded on our books
    (amount mismatch); an unknown order; an unknown transaction type."""
    import json

    booked_order(shopify, "5841237409851", sale="102.14", fee="3.26")
    booked_order(shopify, "5841237409877", sale="55.10")  # expected fee 1.76
    booked_order(shopify, "5841237402233", sale="8.56", fee="0")  # refund not on the books
    document = json.loads(fixture("shopify_balance_transactions.json"))
    txns = document["transactions"]
    txns.insert(
        3,
        {
            **txns[0],
            "id": 1,
            "source_order_id": 999,
            "amount": "10.00",
            "fee": "0.00",
            "net": "10.00",
        },
    )
    txns.insert(
        4, {**txns[0], "id": 2, "type": "mystery", "amount": "1.00", "fee": "0.00", "net": "1.00"}
    )
    document["payout"]["amount"] = txns[-1]["amount"] = "154.52"
    txns[-1]["amount"] = txns[-1]["net"] = "-154.52"
    settlement = import_settlement(
        channel=shopify,
        source="shopify_payments",
        data=json.dumps(document).encode(),
        actor=finance_user,
    ).settlement
    found = {
        v.kind: (v.order_ref, v.expected, v.actual, v.difference)
        for v in SettlementVariance.objects.filter(settlement=settlement)
    }
    assert found == {
        VarianceKind.FEE_MISMATCH: ("5841237409877", D("-1.76"), D("-1.90"), D("-0.14")),
        VarianceKind.AMOUNT_MISMATCH: ("5841237402233", D("8.56"), D("-8.56"), D("-17.12")),
        VarianceKind.UNMATCHED_ORDER: ("999", D("0"), D("10.00"), D("10.00")),
        VarianceKind.UNKNOWN_TYPE: ("5841237409851", D("0"), D("1.00"), D("1.00")),
    }
    assert settlement.state == SettlementState.VARIANCES
    assert settlement.matched_orders == 1
    # What the variances hold sits in clearing: −0.14 − 17.12 + 10.00 + 1.00.
    assert balance("clearing", shopify) == -D("-6.26")
    assert balance("bank") == D("154.52")


def test_fee_within_tolerance_is_trued_up_per_order(ebay, finance_user, books_balance):
    sale = booked_order(ebay, "27-11842-90315", sale="65.48", tax="6.14", fee="9.40")
    settlement = import_settlement(
        channel=ebay,
        source="ebay_finances",
        data=fixture("ebay_finances_transactions.json"),
        actor=finance_user,
    ).settlement
    kinds = set(
        SettlementVariance.objects.filter(settlement=settlement).values_list("kind", flat=True)
    )
    # The refunded order is not ours on the books: amount mismatch; the sale matches.
    assert kinds == {VarianceKind.UNMATCHED_ORDER}
    assert balance("receivable", ebay) == D("0")
    # Expected 9.40 at shipment, charged 9.45: 0.05 trued up on the order.
    assert balance("marketplace_fees", order=sale) == D("9.45")
    # Tax eBay collected and remits leaves our liability: 6.14 posted, 6.14 withheld, 2.01 back.
    assert balance("sales_tax") == D("-6.14") + D("6.14") - D("2.01")
    assert balance("bank") == D("28.37")


def test_accept_posts_to_the_variance_account_and_dispute_holds_it(
    shopify, finance_user, books_balance
):
    booked_order(shopify, "5841237409851", sale="102.14", fee="3.26")
    booked_order(shopify, "5841237409877", sale="55.10")
    settlement = import_settlement(
        channel=shopify,
        source="shopify_payments",
        data=fixture("shopify_balance_transactions.json"),
        actor=finance_user,
    ).settlement
    fee = SettlementVariance.objects.get(settlement=settlement, kind=VarianceKind.FEE_MISMATCH)
    unmatched = SettlementVariance.objects.get(
        settlement=settlement, kind=VarianceKind.UNMATCHED_ORDER
    )
    with pytest.raises(ValidationFailed, match="Say why"):
        accept_variance(variance_id=fee.pk, actor=finance_user, note=" ")
    accepted = accept_variance(variance_id=fee.pk, actor=finance_user, note="Shopify 30c fixed fee")
    assert accepted.state == VarianceState.ACCEPTED
    entry = accepted.journal_entry
    lines = sorted(
        (line.account.role, line.debit, line.credit)
        for line in entry.lines.select_related("account")
    )
    assert lines == [
        ("clearing", D("0"), D("0.14")),
        ("settlement_variance", D("0.14"), D("0")),
    ]
    assert accepted.history.first().history_user == finance_user
    with pytest.raises(Conflict):
        accept_variance(variance_id=fee.pk, actor=finance_user, note="again")

    disputed = dispute_variance(variance_id=unmatched.pk, actor=finance_user, note="Not our refund")
    assert disputed.state == VarianceState.DISPUTED and disputed.journal_entry is None
    assert balance("clearing", shopify) == D("8.56")  # the disputed refund: a claim
    settlement.refresh_from_db()
    assert settlement.state == SettlementState.RECONCILED  # nothing open any more
    accept_variance(variance_id=unmatched.pk, actor=finance_user, note="Lost the dispute")
    assert balance("clearing", shopify) == D("0")


def test_deciding_needs_the_permission(shopify, warehouse_user, finance_user):
    settlement = import_settlement(
        channel=shopify,
        source="shopify_payments",
        data=fixture("shopify_balance_transactions.json"),
        actor=finance_user,
    ).settlement
    variance = settlement.variances.first()
    with pytest.raises(NotPermitted):
        accept_variance(variance_id=variance.pk, actor=warehouse_user, note="x")
    with pytest.raises(NotPermitted):
        dispute_variance(variance_id=variance.pk, actor=warehouse_user, note="x")


def _amazon_file(orders: int) -> bytes:
    header = fixture("amazon_settlement_v2.tsv").decode().splitlines()[0]
    columns = header.split("\t")

    def row(**values):
        return "\t".join(values.get(c, "") for c in columns)

    rows = [header]
    body = []
    for n in range(orders):
        for kind, desc, amount in (
            ("ItemPrice", "Principal", "20.00"),
            ("ItemFees", "Commission", "-3.00"),
        ):
            body.append(
                row(
                    **{
                        "settlement-id": "77",
                        "transaction-type": "Order",
                        "order-id": f"Q-{n}",
                        "amount-type": kind,
                        "amount-description": desc,
                        "amount": amount,
                    }
                )
            )
    total = f"{orders * 17:.2f}"
    rows.append(
        row(
            **{
                "settlement-id": "77",
                "total-amount": total,
                "currency": "USD",
                "settlement-start-date": "2026-11-01",
                "settlement-end-date": "2026-11-14",
                "deposit-date": "2026-11-16",
            }
        )
    )
    return "\n".join(rows + body).encode()


@pytest.mark.parametrize("orders", [5, 40])
def test_queries_do_not_grow_with_the_lines(amazon, finance_user, orders):
    for n in range(orders):
        booked_order(amazon, f"Q-{n}", sale="20.00")
    data = _amazon_file(orders)
    with CaptureQueriesContext(connection) as queries:
        settlement = import_settlement(
            channel=amazon, source="amazon_v2", data=data, actor=finance_user
        ).settlement
    assert settlement.matched_orders == orders
    assert len(queries) <= 30, [q["sql"][:120] for q in queries.captured_queries]
