#!/usr/bin/env python3
"""Interop check: python-tuf's ngclient reads a repository published by our `tuf` CLI.

The client side of `tuf-cli/tests/python_interop.rs`, which CI runs: that test publishes
a repository with the `tuf` binary, serves it on 127.0.0.1, changes or tampers with it
between runs, and runs this script (with the packages of requirements.txt) as the client
after each step. One run of this script is one `ngclient.Updater`:

1. it trusts the root ngclient stored in --client-dir, or, for a new --client-dir, the
   root in --trusted-root (shipped out of band),
2. refreshes (timestamp, snapshot, targets, TUF §5.3-§5.5),
3. for each `--expect PATH=FILE`: looks PATH up through the TAP 15 bins, downloads it
   by its consistent-snapshot name into --download-dir and checks the bytes equal FILE,
4. for each `--absent PATH`: checks PATH has no target info (an authenticated
   "no such crate").

Exit status:

* 0, and "OK" on the last line: every check held.
* 1: python-tuf accepted something that does not match (other bytes, a target it
  should not know, a missing target), or the script failed.
* 3: python-tuf refused the repository (a `tuf.api.exceptions.RepositoryError`:
  a bad signature, hash or length, version, expiry); the last line on stderr is
  `refused: <ExceptionClass>: <message>`.
* 4: a download failed (`DownloadError`, e.g. HTTP 404); last line
  `download failed: <ExceptionClass>: <message>`.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

from tuf.api.exceptions import DownloadError, RepositoryError
from tuf.ngclient import Updater

EXIT_MISMATCH = 1
EXIT_REFUSED = 3
EXIT_DOWNLOAD = 4


class Mismatch(Exception):
    """python-tuf accepted something that is not what was published."""


def updater(args: argparse.Namespace) -> Updater:
    client = Path(args.client_dir)
    bootstrap = None  # a client that ran before starts from the root it stored
    if not (client / "root.json").exists():
        if args.trusted_root is None:
            raise SystemExit(f"{client} has no root.json: give --trusted-root")
        client.mkdir(parents=True, exist_ok=True)
        bootstrap = Path(args.trusted_root).read_bytes()
    Path(args.download_dir).mkdir(parents=True, exist_ok=True)
    return Updater(
        metadata_dir=str(client),
        metadata_base_url=args.metadata_url,
        target_dir=args.download_dir,
        target_base_url=args.targets_url,
        bootstrap=bootstrap,
    )


def check(up: Updater, expect: list[str], absent: list[str]) -> None:
    up.refresh()
    for pair in expect:
        path, _, file = pair.partition("=")
        want = Path(file).read_bytes()
        info = up.get_targetinfo(path)
        if info is None:
            raise Mismatch(f"python-tuf finds no target info for {path}")
        got = Path(up.download_target(info)).read_bytes()
        if got != want:
            raise Mismatch(f"{path}: python-tuf downloaded other bytes than {file}")
        print(f"ok {path} ({len(got)} bytes)", flush=True)
    for path in absent:
        if up.get_targetinfo(path) is not None:
            raise Mismatch(f"python-tuf finds target info for {path}, which is not published")
        print(f"ok {path} absent", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metadata-url", required=True)
    parser.add_argument("--targets-url", required=True)
    parser.add_argument("--client-dir", required=True, help="ngclient's metadata directory")
    parser.add_argument("--download-dir", required=True)
    parser.add_argument("--trusted-root", help="root to trust for a new --client-dir")
    parser.add_argument("--expect", action="append", default=[], metavar="PATH=FILE",
                        help="target PATH must download with the bytes of FILE")
    parser.add_argument("--absent", action="append", default=[], metavar="PATH",
                        help="target PATH must have no target info")
    args = parser.parse_args()
    print(f"python-tuf {dist_version('tuf')}, securesystemslib {dist_version('securesystemslib')}",
          flush=True)
    try:
        check(updater(args), args.expect, args.absent)
    except RepositoryError as e:
        print(f"refused: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except DownloadError as e:
        print(f"download failed: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_DOWNLOAD
    except Mismatch as e:
        print(f"mismatch: {e}", file=sys.stderr)
        return EXIT_MISMATCH
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
