"""Django's JSON serialization, with times that survive a round trip.

Django writes a time to the millisecond but keeps the fraction whenever the
microseconds are not zero: 12:00:49.000500 is written "12:00:49.000Z", read
back as 12:00:49 and then written "12:00:49Z", so dump, load, dump differed.
Here a time is first cut to the millisecond, so what is written is exactly
what is read back. SERIALIZATION_MODULES puts it in place of "json".
"""

import datetime

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as DjangoSerializer

__all__ = ["Deserializer", "Serializer"]


class MillisecondEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            o = o.replace(microsecond=o.microsecond // 1000 * 1000)
        return super().default(o)


class Serializer(DjangoSerializer):
    def _init_options(self):
        self.options.setdefault("cls", MillisecondEncoder)
        super()._init_options()
