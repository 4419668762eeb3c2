"""Security, in rooms by what each protects.

- ``accounts``: therapists' accounts and sign-in (passwords, the second factor, session
  timeouts, a post kept across an idle sign-out).
- ``links``: partners' private links (tokens, the browser session they open, keeping
  tokens out of logs).
- ``audit``: the append-only, keyed audit log.
- ``encryption``: the field cipher and key rotation.

Beside them, ``access`` decides who may see which case, ``ratelimit`` counts failures and
``shown_once`` shows a secret to the therapist a single time.
"""
