"""``python -m xsandbox --host 127.0.0.1 --port 8001 [--state FILE] [--scenario FILE] [--play]
[--vocabulary both|tweet|post] [--problem-host URL] [--rate-limits x|tight|unlimited] [--token-ttl SECONDS]``."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .sandbox import SandboxConfig
from .scenarios import scenario_path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m xsandbox", description="Local stand-in for the X API v2.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--state", help="JSON file to load state from and keep saving it to")
    p.add_argument("--scenario", help="scenario JSON to load at start ('demo' = the bundled demo)")
    p.add_argument("--play", action="store_true", help="also play the scenario's timed 'play' steps")
    p.add_argument("--vocabulary", choices=["both", "tweet", "post"], default="both",
                   help="both: accept tweet.fields and post.fields and answer each in its words, as live X "
                        "does (default); tweet / post: one vocabulary strictly, spec 2.159 / 2.167")
    p.add_argument("--problem-host", default="",
                   help="send every problem type under this host, e.g. https://api.twitter.com "
                        "(default: as the vocabulary's spec says)")
    p.add_argument("--rate-limits", choices=["x", "tight", "unlimited"], default="x")
    p.add_argument("--token-ttl", type=float, default=7200.0, help="OAuth access-token lifetime (s)")
    p.add_argument("--log-level", default="warning")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scenario = str(scenario_path(args.scenario)) if args.scenario else None
    config = SandboxConfig(vocabulary=args.vocabulary, problem_host=args.problem_host, rate_limits=args.rate_limits,
                           access_token_ttl=args.token_ttl, state_file=args.state,
                           scenario_file=scenario, play=args.play, public_url=f"http://{args.host}:{args.port}")
    print(f"xsandbox on http://{args.host}:{args.port}  (control page: http://{args.host}:{args.port}/sandbox/)",
          flush=True)
    uvicorn.run(create_app(config=config), host=args.host, port=args.port, log_level=args.log_level,
                access_log=False)


if __name__ == "__main__":
    main()
