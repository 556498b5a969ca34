"""Accounts: how people and machines prove who they are.

- :mod:`api.accounts.tokens` makes the random secrets (access and refresh tokens, WebSocket tickets) and
  the hashes that are all the database keeps of them.
- :mod:`api.accounts.otp` issues and checks the one-time sign-in codes mailed to an address.
- :mod:`api.accounts.identity` is the seam for identity providers (:class:`IdentityProvider`): the e-mail
  code one is implemented; a county's OpenID Connect provider is the next.
- :mod:`api.accounts.sessions` keeps signed-in devices: short-lived access tokens renewed by rotating
  refresh tokens, revocation, and the single-use tickets that open a live stream.
- :mod:`api.accounts.revocation` closes what a revocation ends at once: cached credentials and open
  WebSockets in this process, and in every other worker through Redis.
"""
