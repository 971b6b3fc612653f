"""Live events: every committed state change pushed to subscribers, resumable by sequence number.

``EventHub`` (one per center process) reads the event log in commit order and fans events out
to ``Subscription``s; ``center.live.pg`` carries commits between processes with PostgreSQL
LISTEN/NOTIFY; ``center.live.wire`` is the JSON shape of the stream (docs/events.md).
"""

from center.live.hub import EventFilter, EventHub, Overflowed, Subscription, SubscriptionClosed

__all__ = ["EventFilter", "EventHub", "Overflowed", "Subscription", "SubscriptionClosed"]
