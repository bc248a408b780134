"""The payment month as named stages (see `models/month/stages.py` for the order and the driver)."""
