"""The live layer: how plan changes reach drivers, riders and operators as they happen, and how several
worker processes share one dispatcher.

- :mod:`api.live.hub` fans messages out to this process's WebSocket connections.
- :mod:`api.live.store` keeps the live state (plan version, latest route per bus, positions) and
  publishes each domain event on a channel named after it: in memory for one process, in Redis
  (``REDIS_URL``) for several.
- :mod:`api.live.publisher` turns the dispatcher's drained events into messages, off the dispatcher's lock.
- :mod:`api.live.messages` types every message the streams send (:class:`~api.live.messages.LiveMessage`
  and the first message of each stream).
- :mod:`api.live.lease` elects the one dispatcher of a service area (a Redis lock with expiry), and
  :mod:`api.live.fencing` stops a worker that lost its lease from writing the plan.
- :mod:`api.live.forwarding` sends every ``/v1/`` request a follower receives to the leader.
- :mod:`api.live.layer` ties them together for the app.
"""
