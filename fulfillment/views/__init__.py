"""Fulfillment back office: the warehouse dashboard, wave and pick-list (scanner) pages,
the packing station, shipments, and the master data the floor runs on. Views are thin:
they parse a form, call a selector or a service, and render a page or, for a
non-boosted HTMX request, the partial the page is built from."""
