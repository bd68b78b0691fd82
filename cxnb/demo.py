"""Deterministic demo data with planted structure that the later stages must find.

Planted ground truth (kept in :class:`DemoData.truth`):

* four customer segments with distinct order frequency, spend and category taste;
* a next-period purchase propensity: ``logit p = b0 + b_freq*log1p(frequency) + b_rec*days_since_last_order/30
  + b_app*[channel == "app"]``, evaluated at ``cutoff`` on the history before it; customers drawn positive buy
  in the ``horizon_days`` after the cutoff, the others do not;
* groups of items bought together: every order draws its lines from one item group, and each customer
  keeps returning to a few favourite groups;
* a funnel in the behaviour events (:attr:`DemoData.events`, drawn from a separate random stream, so the
  purchases are the same with or without them): every buyer first views an item ``FUNNEL["buyer_view_hours"]``
  before the first purchase and, with probability ``FUNNEL["buyer_cart"]``, adds it to the cart (else favourites
  it with ``FUNNEL["buyer_favourite"]``) in between; ``FUNNEL["visitors"]`` visitors who never buy view an item,
  and a share ``FUNNEL["visitor_step2"]`` of them add to cart or favourite within two days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from cxnb.constants import SEED

START = pd.Timestamp("2023-01-01")
END = pd.Timestamp("2024-12-31")
HORIZON_DAYS = 90
CUTOFF = END + pd.Timedelta(days=1) - pd.Timedelta(days=HORIZON_DAYS)  # horizon = the last 90 whole days

CATEGORIES = [
    "Grocery", "Snacks", "Beverages", "Household", "Beauty",
    "Electronics", "Appliances", "Toys", "Apparel", "Garden",
]
REGIONS = ["North", "South", "East", "West", "Central"]
CHANNELS = ["web", "app", "store"]
AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55+"]

# name, share of customers, orders per 30 days, lines per order, price factor, favourite categories
SEGMENTS = [
    ("loyal_high_value", 0.20, 1.10, 3.0, 1.6, ["Grocery", "Beverages", "Beauty"]),
    ("occasional_bargain", 0.35, 0.20, 1.6, 0.5, ["Snacks", "Household", "Toys"]),
    ("big_ticket", 0.20, 0.12, 1.2, 3.0, ["Electronics", "Appliances"]),
    ("new_active", 0.25, 1.30, 2.2, 1.0, ["Apparel", "Garden"]),
]

# Planted propensity coefficients (on log1p(frequency), days since last order / 30, channel == app).
PROPENSITY = {"intercept": -0.6, "log_frequency": 0.9, "recency_months": -0.45, "channel_app": 0.9}

# Planted funnel of the behaviour events (see the module docstring).
FUNNEL = {"visitors": 4000, "visitor_step2": 0.35, "buyer_cart": 0.8, "buyer_favourite": 0.5,
          "buyer_view_hours": (2.0, 72.0), "extra_views_per_order": 2.0}
EVENT_STREAM = 7  # the events' random stream: numpy.random.default_rng([seed, EVENT_STREAM])

FIRST_NAMES = ["Ava", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena",
               "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yuki"]
LAST_NAMES = ["Smith", "Wang", "Garcia", "Okafor", "Muller", "Rossi", "Kim", "Novak", "Silva", "Haddad",
              "Ivanova", "Tanaka", "Larsen", "Dubois", "Mensah", "Kowalski"]
ADJECTIVES = ["Classic", "Fresh", "Smart", "Eco", "Deluxe", "Mini", "Family", "Pro", "Organic", "Compact"]


@dataclass
class DemoData:
    """The demo tables in canonical column names, plus the planted ground truth."""

    transactions: pd.DataFrame
    customers: pd.DataFrame
    items: pd.DataFrame
    truth: pd.DataFrame
    info: dict = field(default_factory=dict)
    events: pd.DataFrame | None = None  # views, carts and favourites (purchases are the transactions)

    def event_log(self) -> pd.DataFrame:
        """Purchases and behaviour events in one log with an ``event_type`` column, as a client exports it."""
        purchases = self.transactions.assign(event_type="purchase")
        return pd.concat([purchases, self.events], ignore_index=True).sort_values(
            ["timestamp", "event_type"], kind="mergesort", ignore_index=True)


def _items(rng: np.random.Generator, n_items: int) -> pd.DataFrame:
    per_cat = n_items // len(CATEGORIES)
    rows = []
    base_price = dict(zip(CATEGORIES, [4, 3, 2.5, 6, 12, 120, 180, 20, 30, 15], strict=True))
    for c, cat in enumerate(CATEGORIES):
        for j in range(per_cat):
            idx = c * per_cat + j
            price = round(float(base_price[cat] * rng.lognormal(0.0, 0.35)), 2)
            rows.append((f"I{idx + 1:04d}", f"{ADJECTIVES[j % len(ADJECTIVES)]} {cat} {j + 1}", cat, price))
    items = pd.DataFrame(rows, columns=["item_id", "name", "category", "price"])
    # Ten-item groups within a category: the "bought together" structure.
    items["group"] = np.arange(len(items)) // 10
    return items


def _customers(rng: np.random.Generator, n_customers: int) -> pd.DataFrame:
    shares = np.array([s[1] for s in SEGMENTS])
    segment = rng.choice(len(SEGMENTS), size=n_customers, p=shares)
    ids = [f"C{i + 1:05d}" for i in range(n_customers)]
    first = rng.choice(FIRST_NAMES, size=n_customers)
    last = rng.choice(LAST_NAMES, size=n_customers)
    span = (CUTOFF - START).days
    signup_offset = np.where(
        segment == 3,
        rng.integers(span - 200, span - 60, size=n_customers),
        rng.integers(-400, span // 3, size=n_customers),
    )
    signup = START + pd.to_timedelta(signup_offset, unit="D")
    channel = rng.choice(CHANNELS, size=n_customers, p=[0.45, 0.35, 0.20])
    customers = pd.DataFrame({
        "customer_id": ids,
        "name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
        "email": [f"{f.lower()}.{la.lower()}{i + 1}@example.com" for i, (f, la) in enumerate(zip(first, last, strict=True))],
        "phone": [f"+1-555-{rng.integers(100, 999)}-{i + 1:04d}" for i in range(n_customers)],
        "signup_date": signup.strftime("%Y-%m-%d"),
        "region": rng.choice(REGIONS, size=n_customers, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
        "channel": channel,
        "age_band": rng.choice(AGE_BANDS, size=n_customers),
    })
    return customers, segment


def _orders_for(rng, cust_idx, n_orders, lo, hi, seg, fav_groups, items_by_group, item_prices):
    """Order lines for one customer: n_orders orders uniformly between day offsets lo and hi."""
    if n_orders <= 0 or hi <= lo:
        return []
    name, _, _, lines_per_order, price_factor, _ = SEGMENTS[seg]
    days = np.sort(rng.uniform(lo, hi, size=n_orders))
    rows = []
    n_groups = len(items_by_group)
    qty_rate = 0.4 * price_factor if price_factor < 2 else 0.1
    for d in days:
        group = fav_groups[rng.integers(len(fav_groups))] if rng.random() < 0.95 else rng.integers(n_groups)
        members = items_by_group[group]
        n_lines = min(len(members), 1 + rng.poisson(lines_per_order - 1))
        chosen = rng.choice(members, size=n_lines, replace=False, p=_zipf(len(members)))
        for it in chosen:
            qty = 1 + rng.poisson(qty_rate)
            rows.append((cust_idx, float(d), int(it), int(qty), float(item_prices[it] * (0.9 + 0.2 * rng.random()))))
    return rows


@lru_cache(maxsize=64)
def _zipf(n: int) -> np.ndarray:
    """Zipf-like popularity of the ``n`` items of a group (so some items are bestsellers), summing to one."""
    weights = 1.0 / np.arange(1, n + 1)
    out = weights / weights.sum()
    out.flags.writeable = False
    return out


def generate_demo(n_customers: int = 5000, n_items: int = 500, seed: int = SEED) -> DemoData:
    """Generate the demo tables deterministically from ``seed``."""
    rng = np.random.default_rng(seed)
    items = _items(rng, n_items)
    customers, segment = _customers(rng, n_customers)
    n_groups = int(items["group"].max()) + 1
    items_by_group = [np.flatnonzero(items["group"].to_numpy() == g) for g in range(n_groups)]
    item_prices = items["price"].to_numpy()
    group_cat = items.groupby("group")["category"].first().to_numpy()
    span_hist = (CUTOFF - START).days
    span_all = (END - START).days
    signup_off = (pd.to_datetime(customers["signup_date"]) - START).dt.days.to_numpy()
    is_app = (customers["channel"] == "app").to_numpy()

    rows: list[tuple] = []
    freq = np.zeros(n_customers)
    last_day = np.full(n_customers, np.nan)
    fav_by_customer = []
    for i in range(n_customers):
        seg = segment[i]
        cats = SEGMENTS[seg][5]
        eligible = np.flatnonzero(np.isin(group_cat, cats))
        fav = rng.choice(eligible, size=min(3, len(eligible)), replace=False)
        fav_by_customer.append(fav)
        lo = max(0, signup_off[i])
        rate = SEGMENTS[seg][2] * rng.lognormal(0, 0.25)
        # A share of each segment lapses at a random point, which spreads recency.
        stop = hi = span_hist
        if rng.random() < 0.35:
            stop = rng.uniform(lo, hi)
        n = rng.poisson(rate * max(stop - lo, 0) / 30)
        if n == 0 and stop > lo:
            n = 1
        new = _orders_for(rng, i, n, lo, stop, seg, fav, items_by_group, item_prices)
        rows.extend(new)
        if new:
            freq[i] = len({r[1] for r in new})
            last_day[i] = max(r[1] for r in new)

    # Planted propensity at the cutoff, on history before it.
    has_history = ~np.isnan(last_day)
    recency_months = np.where(has_history, (span_hist - np.nan_to_num(last_day)) / 30, 0)
    logit = (PROPENSITY["intercept"] + PROPENSITY["log_frequency"] * np.log1p(freq)
             + PROPENSITY["recency_months"] * recency_months + PROPENSITY["channel_app"] * is_app)
    p = 1 / (1 + np.exp(-logit))
    buys = (rng.random(n_customers) < p) & has_history
    for i in np.flatnonzero(buys):
        n = 1 + rng.poisson(SEGMENTS[segment[i]][2] * 1.5)
        rows.extend(_orders_for(rng, i, n, span_hist + 0.01, span_all + 0.99, segment[i],
                                fav_by_customer[i], items_by_group, item_prices))

    tx = pd.DataFrame(rows, columns=["cust", "day", "item", "quantity", "price"])
    tx = tx.sort_values(["day", "cust"], kind="mergesort").reset_index(drop=True)
    tx["order_key"] = tx.groupby(["cust", "day"], sort=False).ngroup()
    order_no = pd.factorize(tx["order_key"])[0] + 100001
    transactions = pd.DataFrame({
        "order_id": order_no.astype(str),
        "customer_id": customers["customer_id"].to_numpy()[tx["cust"]],
        "timestamp": (START + pd.to_timedelta(np.floor(tx["day"] * 86400), unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "item_id": items["item_id"].to_numpy()[tx["item"]],
        "quantity": tx["quantity"].astype(int),
        "price": tx["price"].round(2),
    })
    transactions = _add_dirt(rng, transactions)

    truth = pd.DataFrame({
        "customer_id": customers["customer_id"],
        "segment": [SEGMENTS[s][0] for s in segment],
        "segment_code": segment,
        "frequency_at_cutoff": freq.astype(int),
        "days_since_last_order_at_cutoff": np.where(has_history, span_hist - np.nan_to_num(last_day), np.nan),
        "channel_app": is_app.astype(int),
        "true_propensity": np.where(has_history, p, np.nan),
        "bought_in_horizon": buys.astype(int),
    })
    info = {"cutoff": str(CUTOFF.date()), "horizon_days": HORIZON_DAYS, "start": str(START.date()),
            "end": str(END.date()), "propensity": PROPENSITY, "n_segments": len(SEGMENTS)}
    events = _events(np.random.default_rng([seed, EVENT_STREAM]), transactions, items["item_id"].to_numpy())
    return DemoData(transactions, customers, items.drop(columns="group"), truth, info, events)


def _hours(values) -> pd.TimedeltaIndex:
    return pd.to_timedelta(np.asarray(values) * 3600, unit="s")


def _events(rng: np.random.Generator, transactions: pd.DataFrame, item_ids: np.ndarray) -> pd.DataFrame:
    """Views, carts and favourites with the planted funnel of :data:`FUNNEL` (timestamps as text, like lines)."""
    lines = transactions.dropna(subset=["customer_id"])
    lines = lines[~lines["order_id"].str.startswith("C") & (lines["price"] > 0)]
    ts = pd.to_datetime(lines["timestamp"])
    first = lines.assign(ts=ts).sort_values(["ts", "order_id"]).groupby("customer_id", sort=True).first()
    n = len(first)
    lo, hi = FUNNEL["buyer_view_hours"]
    view_at = first["ts"] - _hours(rng.uniform(lo, hi, n))
    gap = (first["ts"] - view_at).to_numpy()
    carts = rng.random(n) < FUNNEL["buyer_cart"]
    favs = ~carts & (rng.random(n) < FUNNEL["buyer_favourite"])
    step2_at = view_at + gap * rng.uniform(0.2, 0.9, n)
    frames = [pd.DataFrame({"customer_id": first.index, "timestamp": view_at, "item_id": first["item_id"],
                            "event_type": "view"}),
              pd.DataFrame({"customer_id": first.index[carts | favs], "timestamp": step2_at[carts | favs],
                            "item_id": first["item_id"].to_numpy()[carts | favs],
                            "event_type": np.where(carts, "cart", "favourite")[carts | favs]})]
    # Browsing before every order: extra views of other items in the hour before it.
    orders = lines.assign(ts=ts).groupby("order_id").agg(customer_id=("customer_id", "first"), ts=("ts", "min"))
    repeat = rng.poisson(FUNNEL["extra_views_per_order"], len(orders))
    idx = np.repeat(np.arange(len(orders)), repeat)
    frames.append(pd.DataFrame({"customer_id": orders["customer_id"].to_numpy()[idx],
                                "timestamp": orders["ts"].to_numpy()[idx] - _hours(rng.uniform(0.05, 1.0, len(idx))),
                                "item_id": rng.choice(item_ids, len(idx)), "event_type": "view"}))
    frames.append(_visitor_events(rng, transactions, item_ids))
    events = pd.concat(frames, ignore_index=True)
    events["timestamp"] = pd.to_datetime(events["timestamp"]).dt.floor("s").dt.strftime("%Y-%m-%d %H:%M:%S")
    return events.sort_values(["timestamp", "customer_id", "event_type"], kind="mergesort", ignore_index=True)


def _visitor_events(rng: np.random.Generator, transactions: pd.DataFrame, item_ids: np.ndarray) -> pd.DataFrame:
    """Visitors who never buy: a first view, then cart or favourite for a planted share within two days."""
    n = FUNNEL["visitors"]
    ids = np.array([f"V{i:05d}" for i in range(1, n + 1)])
    span = (pd.Timestamp(transactions["timestamp"].max()) - START).total_seconds() / 3600 - 48
    view_at = START + _hours(rng.uniform(0, span, n))
    items = rng.choice(item_ids, n)
    step2 = rng.random(n) < FUNNEL["visitor_step2"]
    kind = np.where(rng.random(n) < 0.7, "cart", "favourite")
    return pd.concat([
        pd.DataFrame({"customer_id": ids, "timestamp": view_at, "item_id": items, "event_type": "view"}),
        pd.DataFrame({"customer_id": ids[step2], "timestamp": view_at[step2] + _hours(rng.uniform(0.1, 48, step2.sum())),
                      "item_id": items[step2], "event_type": kind[step2]}),
    ], ignore_index=True)


def _add_dirt(rng: np.random.Generator, tx: pd.DataFrame) -> pd.DataFrame:
    """Add the kinds of dirt real logs have, in known amounts, for the cleaning rules to remove."""
    n = len(tx)
    dup = tx.iloc[rng.choice(n, size=120, replace=False)]
    cancel = tx.iloc[rng.choice(n, size=150, replace=False)].copy()
    cancel["order_id"] = "C" + cancel["order_id"]
    cancel["quantity"] = -cancel["quantity"]
    missing = tx.iloc[rng.choice(n, size=80, replace=False)].copy()
    missing["customer_id"] = None
    free = tx.iloc[rng.choice(n, size=60, replace=False)].copy()
    free["price"] = 0.0
    out = pd.concat([tx, dup, cancel, missing, free], ignore_index=True)
    return out.sort_values(["timestamp", "order_id"], kind="mergesort").reset_index(drop=True)


def write_demo_files(directory, seed: int = SEED) -> dict[str, str]:
    """Write the demo tables as CSV files (what a client would hand over); returns the paths."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    demo = generate_demo(seed=seed)
    paths = {}
    tables = {"transactions": demo.event_log(), "customers": demo.customers, "items": demo.items}
    for name, frame in tables.items():
        path = directory / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        paths[name] = str(path)
    return paths
