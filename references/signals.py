"""Signals of the references app."""

from django.dispatch import Signal

# Sent once for each bulk insert of "created" history rows, which
# simple-history's bulk_history_create writes without its per-row
# post_create_historical_record signal. Arguments: sender (the model),
# instances, history_instances (in the same order) and using.
bulk_history_created = Signal()
