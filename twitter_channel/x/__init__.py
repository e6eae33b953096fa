"""The edge: the only code that speaks to X. `api.py` (over tweepy) and `oauth.py` make the
calls; `parsing.py` (and `activity_events.py`, for what the Activity API pushes) turns X's
JSON into the typed values of `types.py`, `activity_types.py` and `compliance_types.py`, so
nothing past this package reads raw X payloads; `pricing.py` knows what X bills for a call
and `text_length.py` how X counts a post's characters."""
