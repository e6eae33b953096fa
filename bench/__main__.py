"""Run benchmarks: `python -m bench` runs them all, `python -m bench pages --reseed` runs one.

Every module in this package with a `main()` is a benchmark. Run together, each runs in
its own process: benchmarks configure Django differently (their own database, settings
tweaks), and Django can be set up only once per process. Extra arguments after the name
go to that module's `main`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def module_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
        if not info.name.startswith("_") and not info.ispkg
    )


def run_one(name: str, args: list[str]) -> int:
    if name not in module_names():
        print(f"bench: no benchmark named {name!r}; there are: {', '.join(module_names())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name}")
    main = getattr(module, "main", None)
    if main is None:
        # Helper modules (the seeder) have no main(); asked for by name they say so.
        print(f"bench: bench.{name} has no main(); it is a helper, not a benchmark", file=sys.stderr)
        return 2
    # Accept both `main(argv)` and a bare `main()` that reads sys.argv itself.
    sys.argv = [f"python -m bench {name}", *args]
    result = main(args) if inspect.signature(main).parameters else main()
    return result if isinstance(result, int) else 0


def run_all() -> int:
    failures = []
    for name in module_names():
        source = (PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8")
        if "def main(" not in source:
            continue  # a helper module
        print(f"\n=== bench {name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "bench", name])
        print(f"=== bench {name}: exit {code}, {time.perf_counter() - started:.1f} s ===", flush=True)
        if code:
            failures.append(name)
    if failures:
        print(f"\nbench: failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


def main_entry(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print(f"\nBenchmarks: {', '.join(module_names())}")
        return 0
    return run_one(argv[0], argv[1:]) if argv else run_all()


if __name__ == "__main__":
    sys.exit(main_entry(sys.argv[1:]))
