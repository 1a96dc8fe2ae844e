"""Fulfillment services: every write on the warehouse floor.

waves.py     slots, and waves of released orders with pick lists in slot order
picking/     scan-confirmed picks (FEFO lots, serials), short picks
packing.py   box suggestion, packages
rates.py     carrier rate selection;  labels.py  labels and packing slips
shipping/    shipment confirmation (ours, or a 3PL's): stock leaves, order states,
             tracking to the channel, the customer's e-mail
sla.py       escalation of orders not confirmed shipped in the channel's window

Lock order everywhere: the order row, then its pick tasks / allocations / shipments,
then stock through the inventory services.
"""
