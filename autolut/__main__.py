"""Command line: ``autolut demo`` (or ``python -m autolut demo``)."""

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "demo":
        print("usage: autolut demo [--neurons N] [--duration MS] "
              "[--target numpy|cython|cpp_standalone | --all-targets] [--method METHOD] "
              "[--tolerance TOL]")
        return 2
    from .demo import main as demo
    return demo(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
