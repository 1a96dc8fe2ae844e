"""Master-data screens (SKUs, locations, channels, listings) on the back-office kit
(erp.views.records): list with instant search, filters and CSV export, record page with
history, create and edit through the master-data services with a reason on every save.
"""

from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_GET

from erp import forms, selectors
from erp.models import Channel, ChannelListing, Location, Sku
from erp.services import master_data as services
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.records import Screen, register_screens

SKU_SUGGESTIONS = 20


def _screen(key, path, title, noun, model, form_class, filter_form_class, selector, **values):
    return Screen(
        key=key,
        path=path,
        title=title,
        noun=noun,
        model=model,
        form_class=form_class,
        filter_form_class=filter_form_class,
        rows=lambda filters: filters.results(selector),
        results_template=f"erp/partials/{key}_results.html",
        details_template=f"erp/partials/{key}_details.html",
        group="Catalog and channels",
        **values,
    )


SCREENS = (
    _screen(
        "sku",
        "skus",
        "SKUs",
        "SKU",
        Sku,
        forms.SkuForm,
        forms.SkuFilterForm,
        selectors.sku_list,
        queryset=lambda: Sku.objects.prefetch_related("substitutes", "listings__channel"),
        create=services.create_sku,
        update=services.update_sku,
        update_argument="sku",
    ),
    _screen(
        "location",
        "locations",
        "Locations",
        "Location",
        Location,
        forms.LocationForm,
        forms.LocationFilterForm,
        selectors.location_list,
        queryset=lambda: Location.objects.prefetch_related("channels"),
        create=services.create_location,
        update=services.update_location,
        update_argument="location",
    ),
    _screen(
        "channel",
        "channels",
        "Channels",
        "Channel",
        Channel,
        forms.ChannelForm,
        forms.ChannelFilterForm,
        selectors.channel_list,
        queryset=lambda: (
            Channel.objects.select_related("availability_endpoint")
            .prefetch_related("eligible_locations")
            .annotate(listing_count=Count("listings"))
        ),
        create=services.create_channel,
        update=services.update_channel,
        update_argument="channel",
    ),
    _screen(
        "listing",
        "listings",
        "Listings",
        "Listing",
        ChannelListing,
        forms.ListingForm,
        forms.ListingFilterForm,
        selectors.listing_list,
        queryset=lambda: ChannelListing.objects.select_related("channel", "sku"),
        create=services.create_listing,
        update=services.update_listing,
        update_argument="listing",
        sku_input=True,
        export_columns=(
            ("channel", lambda listing: listing.channel.code),
            ("sku", lambda listing: listing.sku.code),
            ("channel sku", lambda listing: listing.channel_sku),
            ("active", lambda listing: listing.active),
        ),
    ),
)
register_screens(*SCREENS)


@require_GET
@backoffice_view
def sku_options(request):
    """Datalist suggestions for a SKU-code input: active SKUs matching what was typed."""
    forbid_unless_permitted(request.user, "erp.view_sku")
    typed = (request.GET.get("sku") or request.GET.get("q") or "").strip()
    skus = selectors.sku_list(search=typed).filter(active=True)[:SKU_SUGGESTIONS] if typed else []
    return render(request, "erp/partials/sku_options.html", {"skus": skus})
