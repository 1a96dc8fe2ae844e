"""Customer-service back office for orders: the order list, the order page with its
actions, and refused payloads. Views are thin: they parse a form, call a selector or a
service, and render a page or, for a non-boosted HTMX request, the partials the page is
built from."""
