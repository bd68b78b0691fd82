"""cxnb: customer-experience analysis reports."""
