#!/usr/bin/env python3
"""Write a source tree of FILES files totalling about BYTES bytes into DIR (100 directories, text-like
content, each file distinct). Used by scripts/bench.sh; the tree is cached outside the repository."""
import os
import sys


def main() -> None:
    out, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    size = total // files
    dirs = 100
    # A 64 KiB block of random printable text; each file is a slice of it behind a unique header.
    block = bytes(33 + b % 94 for b in os.urandom(65536))
    for d in range(dirs):
        os.makedirs(os.path.join(out, "src", f"d{d:03}"), exist_ok=True)
    for i in range(files):
        header = f"# file {i}\n".encode()
        start = (i * 7919) % (len(block) - size)
        body = header + block[start : start + size - len(header)]
        with open(os.path.join(out, "src", f"d{i % dirs:03}", f"f{i:06}.txt"), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
