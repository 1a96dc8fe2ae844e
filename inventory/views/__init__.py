"""Inventory back office: stock by SKU and by node, movements, adjustments, channel
availability and its rules, cycle counts and transfers.

Views are thin: they parse a form, call a selector or a service, and render a page or,
for a non-boosted HTMX request, the partial the page is built from.
"""
