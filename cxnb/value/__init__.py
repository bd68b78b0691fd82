"""Customer value: who is still active, how much each customer will buy, and what they are worth.

BG/NBD, MBG/NBD and Pareto/NBD purchase models and the Gamma-Gamma spend model from PyMC-Marketing, fitted by
maximum likelihood; the model is chosen per client on a calibration/holdout backtest against naive predictors,
then refitted on the whole history for discounted customer lifetime value.
"""

from cxnb.value.backtest import Backtest, choose_model, past_rate, ranking_auc, run_backtest, scores
from cxnb.value.data import (
    Split,
    btyd_summary,
    daily_repeat_purchases,
    holdout_purchases,
    purchase_days,
    split_periods,
)
from cxnb.value.exports import export, value_export
from cxnb.value.metrics import ValueMetrics
from cxnb.value.models import (
    MODEL_NAMES,
    PurchaseModel,
    SpendModel,
    clv_library,
    fit_purchases,
    fit_spend,
    repeat_buyers,
    unique_rows,
)
from cxnb.value.pipeline import (
    ValueResult,
    check,
    fit_candidates,
    forward_table,
    run_stage,
    segment_value,
    top_share,
    value_from_days,
)
from cxnb.value.plots import plot_concentration, plot_frequency_backtest, plot_tracking
from cxnb.value.tables import (
    backtest_sentences,
    choice_sentence,
    cost_note,
    decile_table,
    forward_sentences,
    frequency_table,
    models_table,
    p_active_sentences,
    parameters_table,
    predictor_name,
    revenue_table,
    segment_table,
    spend_sentences,
    top_customers_table,
)

__all__ = [
    "MODEL_NAMES", "Backtest", "PurchaseModel", "SpendModel", "Split", "ValueMetrics", "ValueResult", "btyd_summary",
    "check", "choose_model", "clv_library", "daily_repeat_purchases", "fit_candidates", "fit_purchases", "fit_spend",
    "forward_table", "holdout_purchases", "past_rate", "purchase_days", "ranking_auc", "repeat_buyers",
    "run_backtest", "run_stage", "scores", "segment_value", "split_periods", "top_share", "unique_rows",
    "value_from_days",
    "backtest_sentences", "choice_sentence", "cost_note", "decile_table", "export", "forward_sentences",
    "frequency_table", "models_table", "p_active_sentences", "parameters_table", "plot_concentration",
    "plot_frequency_backtest", "plot_tracking", "predictor_name", "revenue_table", "segment_table",
    "spend_sentences", "top_customers_table", "value_export",
]
