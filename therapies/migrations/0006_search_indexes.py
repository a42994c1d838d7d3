"""Once created the full-text search indexes; now a step kept for history.

The indexes are derived from the resource registry after every migrate
(her2db/search_index.py), so their expressions are declared in one place.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("therapies", "0005_change_feed"),
    ]

    operations = []
