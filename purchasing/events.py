"""The domain events purchasing publishes (finance and others subscribe by these names)."""

GOODS_RECEIVED = "purchasing.goods_received"
LANDED_COST_APPLIED = "purchasing.landed_cost_applied"
RTV_SHIPPED = "purchasing.rtv_shipped"
SUPPLIER_CREDIT_RECORDED = "purchasing.supplier_credit_recorded"
