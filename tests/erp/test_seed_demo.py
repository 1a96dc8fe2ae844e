import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse

from erp.models import Channel, ChannelListing, Location, Sku
from orders.models import Order, OrderLine

pytestmark = pytest.mark.django_db


def _counts():
    models = [Sku, Location, Channel, ChannelListing]
    return {model.__name__: (model.objects.count(), model.history.count()) for model in models} | {
        "channel_locations": Channel.eligible_locations.through.objects.count()
    }


def test_seed_demo_seeds_nodes_channels_skus_and_one_login_per_role(capsys):
    call_command("seed_demo", skus=30)

    assert Location.objects.count() == 6
    assert set(Location.objects.values_list("kind", flat=True)) == {
        "warehouse",
        "store",
        "3pl",
        "dropship",
    }
    # Six selling channels, and the phone channel customer service keys orders into.
    assert Channel.objects.count() == 7
    assert Channel.objects.get(code="PHONE").kind == "manual"
    from erp.models import QueueClaim
    from orders.models import IngestionError, Order

    assert Order.objects.filter(origin="phone", channel__code="PHONE").exists()
    assert IngestionError.objects.filter(resolved_at__isnull=True).exists()
    assert QueueClaim.objects.filter(queue_key="orders-on-hold").exists()
    assert Sku.objects.count() == 30
    assert ChannelListing.objects.filter(channel__code="WEB").count() == 30
    output = capsys.readouterr().out
    assert "Integration API token:" in output
    for role in ["warehouse", "customer_service", "manager", "finance"]:
        assert role in output
    assert authenticate(username="manager", password="demo-manager-2026") is not None


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", skus=30)
    before = _counts()

    call_command("seed_demo", skus=30)

    assert _counts() == before


def test_every_demo_order_page_renders_including_the_held_order_with_an_unmapped_line(client):
    call_command("seed_demo", skus=30)
    client.login(username="customer-service", password="demo-customer-service-2026")

    unmapped = OrderLine.objects.get(sku__isnull=True)
    assert unmapped.order.holds.filter(reason="sku_not_mapped", resolved_at=None).exists()
    for order in Order.objects.all():
        assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 200
    queue = client.get(reverse("exception-queue", args=["orders-on-hold"])).content.decode()
    assert f'<tr id="order-{unmapped.order_id}"' in queue
    assert "SKU not mapped" in queue
