"""How long hostile emails take to read: `python -m bench mail_poison`.

The caps in `tickets/mail/parsing.py` keep each of these linear (before them: a 1.4 MB
subject 49 s, a 600 KB header inside a part 11 s, 60,000 recipients 23 s). The tests prove
the caps apply; this prints what they buy on this machine. Target: each under a second.
"""

from __future__ import annotations

import os
import statistics
import time


def poison() -> dict[str, bytes]:
    def raw_email(headers: bytes, body: bytes = b"Hello") -> bytes:
        return headers.replace(b"\n", b"\r\n") + b"\r\n" + body

    to = b", ".join(b"user%d@example.com" % n for n in range(60_000))
    part = b'--sep\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f%d.txt"\r\n\r\nx\r\n'
    return {
        "1.4 MB subject": raw_email(b"From: ann@example.com\nSubject: " + b"word " * 280_000 + b"\n"),
        "600 KB header inside a part": raw_email(
            b'From: ann@example.com\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="sep"\n',
            b"--sep\r\nContent-Type: text/plain\r\n\r\nHi\r\n--sep\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="' + b"a " * 300_000 + b'"\r\n\r\nx\r\n--sep--\r\n',
        ),
        "60,000 recipients in one To": raw_email(b"From: ann@example.com\nSubject: Hi\nTo: " + to + b"\n"),
        "60,000 To fields": raw_email(
            b"From: ann@example.com\nSubject: Hi\n" + b"".join(b"To: user%d@example.com\n" % n for n in range(60_000))
        ),
        "20,000 attachments": raw_email(
            b'From: ann@example.com\nSubject: Files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="sep"\n',
            b"--sep\r\nContent-Type: text/plain\r\n\r\nFiles\r\n" + b"".join(part % n for n in range(20_000)) + b"--sep--\r\n",
        ),
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings_dev")
    import django

    django.setup()
    from tickets.mail.parsing import parse_email

    print(f"load average {os.getloadavg()[0]:.1f}; parse_email, 5 runs each")
    for name, raw in poison().items():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            parse_email(raw)
            runs.append(time.perf_counter() - started)
        print(f"  {name:32} median {statistics.median(runs) * 1000:7.0f} ms   max {max(runs) * 1000:7.0f} ms")
    return 0
