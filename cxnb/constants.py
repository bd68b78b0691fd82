"""Canonical column names, stage names and defaults used across the kit."""

from __future__ import annotations

# Canonical table columns (see DESIGN.md, "Canonical tables").
COL_CUSTOMER = "customer_id"
COL_TIMESTAMP = "timestamp"
COL_ORDER = "order_id"
COL_ITEM = "item_id"
COL_QUANTITY = "quantity"
COL_PRICE = "price"
COL_AMOUNT = "amount"
COL_RATING = "rating"
COL_EVENT = "event_type"
EVENT_TYPES = ("view", "cart", "favourite", "purchase")  # canonical behaviour events
PURCHASE = "purchase"
COL_NAME = "name"
COL_CATEGORY = "category"

TRANSACTION_COLUMNS = (COL_CUSTOMER, COL_TIMESTAMP, COL_ORDER, COL_ITEM, COL_QUANTITY, COL_PRICE, COL_AMOUNT, COL_RATING,
                       COL_EVENT)
ITEM_COLUMNS = (COL_ITEM, COL_NAME, COL_CATEGORY)

# Stages in run order: name -> notebook file stem.
STAGES: dict[str, str] = {
    "data_quality": "01_data_quality",
    "requirement_analysis": "02_requirement_analysis",
    "behavior_prediction": "03_behavior_prediction",
    "segmentation": "04_segmentation",
    "recommendation": "05_recommendation",
    "customer_journey": "06_customer_journey",
    "customer_value": "07_customer_value",
}

# The stages a stage reads the outputs of (customer value groups CLV by the k-means segments when they exist).
STAGE_NEEDS: dict[str, tuple[str, ...]] = {"customer_value": ("segmentation",)}
# The order stages start in when several run at once: the longest first (benchmarks/results.md).
STAGE_PRIORITY = ("behavior_prediction", "segmentation", "recommendation", "customer_value", "requirement_analysis",
                  "data_quality", "customer_journey")

DEFAULT_K = 10
SEED = 42
DEMO_SECRET = "cxnb-demo-key-not-secret"
