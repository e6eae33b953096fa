"""Email as a channel: sending agents' replies, taking in requesters' mail, and the tokens
that tie a reply back to its ticket. Everything that speaks SMTP or RFC 822 lives here."""
