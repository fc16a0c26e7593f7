"""``python -m bench NAME [options]``: run one benchmark (``python -m bench`` lists them)."""

from __future__ import annotations

import importlib
import sys

from . import benchmarks


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    known = benchmarks()
    if not args or args[0] in ("-h", "--help") or args[0] not in known:
        if args and args[0] not in ("-h", "--help"):
            print(f"unknown benchmark {args[0]!r}", file=sys.stderr)
        print("usage: python -m bench NAME [options]   (python -m bench NAME --help for its options)")
        for name, what in known.items():
            print(f"  {name:14s} {what}")
        return 0 if not args or args[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"bench.{args[0]}")
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
