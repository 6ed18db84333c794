#!/usr/bin/env python3
"""Interop check: python-tuf's ngclient reads a repository published by our `tuf` CLI.

A manual check, not a CI test (CI has no pip). With the packages of requirements.txt
installed (see generate.py for the venv), from the repository root:

    /tmp/pyvec-venv/bin/python test-vectors/python/verify_published.py

What it does, all in a temporary directory:

1. builds `tuf` and `synth-index` (cargo; honours CARGO_TARGET_DIR),
2. writes a synthetic index of 300 crates, generates root (encrypted), targets
   (encrypted) and online keys with `tuf key generate`, stages version 1 with `tuf init`
   (256 bins), signs root and targets with `tuf sign`, and publishes with `tuf publish`,
3. serves REPO/ with `python3 -m http.server` on 127.0.0.1 and points ngclient's
   `Updater` at REPO/metadata/ and REPO/targets/ (root 1 as the trusted root),
4. refreshes, looks up several index files (and config.json) through the TAP 15 bins,
   downloads them and checks the bytes equal the index files; checks a crate that is
   not in the index has no target info (an authenticated "no such crate"),
5. changes one index file, publishes incrementally (`--changed`), refreshes again
   with a new Updater on the same local metadata and checks the new bytes are served,
6. tampers with a hash-named target copy on the server and checks ngclient refuses it.

Exit status 0 and "OK" on the last line when python-tuf accepted everything it should
and refused the tampered copy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import version as dist_version
from pathlib import Path

from tuf.api.exceptions import LengthOrHashMismatchError
from tuf.ngclient import Updater

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE_ENV = "TUF_INTEROP_PASSPHRASE"


def run(*args: object, **kw) -> str:
    cmd = [str(a) for a in args]
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    if out.stderr.strip():
        print("  " + out.stderr.strip().replace("\n", "\n  "), flush=True)
    return out.stdout


def build() -> tuple[Path, Path]:
    run("cargo", "build", "-q", "-p", "tuf-cli", "--bin", "tuf",
        "-p", "tuf-examples", "--bin", "synth-index", cwd=ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "tuf", target / "debug" / "synth-index"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "metadata/1.root.json", timeout=1).close()
            return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("http.server did not start")


def updater(work: Path, base: str, repo: Path, targets_dir: str) -> Updater:
    client = work / "client"
    bootstrap = None  # later runs start from the root ngclient stored
    if not client.exists():
        client.mkdir()
        # The trusted root is shipped out of band: root 1 as published.
        bootstrap = (repo / "metadata" / "1.root.json").read_bytes()
    downloads = work / targets_dir
    downloads.mkdir(exist_ok=True)
    return Updater(
        metadata_dir=str(client),
        metadata_base_url=base + "metadata/",
        target_dir=str(downloads),
        target_base_url=base + "targets/",
        bootstrap=bootstrap,
    )


def fetch(up: Updater, path: str) -> bytes:
    info = up.get_targetinfo(path)
    assert info is not None, f"python-tuf finds no target info for {path}"
    return Path(up.download_target(info)).read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    print(f"python-tuf {dist_version('tuf')}, securesystemslib {dist_version('securesystemslib')}")

    tuf, synth = build()
    work = Path(tempfile.mkdtemp(prefix="tuf-interop-"))
    server = None
    try:
        index, repo, keys = work / "index", work / "repo", work / "keys"
        keys.mkdir()
        run(synth, "--crates", 300, "--seed", 1, index)
        env = dict(os.environ, **{PASSPHRASE_ENV: "interop passphrase"})
        for name, flags in [("root", ["--passphrase-env", PASSPHRASE_ENV]),
                            ("targets", ["--passphrase-env", PASSPHRASE_ENV]),
                            ("online", ["--unencrypted"])]:
            run(tuf, "key", "generate", keys / f"{name}.pem", *flags, env=env)
        run(tuf, "init", repo,
            "--root-key", keys / "root.pub.json", "--root-threshold", 1,
            "--targets-key", keys / "targets.pub.json",
            "--online-key", keys / "online.pub.json",
            "--expires", "365d", "--bit-length", 8)
        for role in ["root", "targets"]:
            run(tuf, "sign", "--repo", repo, "--role", role, "--key", keys / f"{role}.pem",
                "--passphrase-env", PASSPHRASE_ENV, env=env)
        run(tuf, "publish", repo, "--index", index, "--online-key", keys / "online.pem")

        server, base = serve(repo)

        # 1. A full refresh and downloads through the bins.
        files = sorted(p for p in index.rglob("*") if p.is_file() and ".git" not in p.parts)
        paths = [p.relative_to(index).as_posix() for p in files]
        assert "config.json" in paths, paths[:5]
        # config.json, and index files of every prefix shape (1/, 2/, 3/x/, ab/cd/).
        picked = ["config.json"]
        for shape in ["1/", "2/", "3/"]:
            picked += [p for p in paths if p.startswith(shape)][:1]
        picked += [p for p in paths if len(p.split("/")) == 3 and not p.startswith("3/")][:5]
        up = updater(work, base, repo, "downloads1")
        up.refresh()
        for path in picked:
            assert fetch(up, path) == (index / path).read_bytes(), path
            print(f"  ngclient: {path} ok ({(index / path).stat().st_size} bytes)")
        for absent in ["no/ta/notacrate", "zz/zz/zzzz-not-published"]:
            assert up.get_targetinfo(absent) is None, absent
        print(f"  ngclient: {len(picked)} targets verified, absent crates have no target info")

        # 2. An incremental publish of one changed file; a new refresh sees the new bytes.
        changed = picked[-1]
        old = (index / changed).read_bytes()
        first = old.splitlines(keepends=True)[0]
        # A yank of the first version: a change a registry makes in place.
        new = old.replace(first, first.replace(b'"yanked":false', b'"yanked":true'), 1)
        assert new != old, "the synthetic line has no \"yanked\":false"
        (index / changed).write_bytes(new)
        run(tuf, "publish", repo, "--index", index, "--online-key", keys / "online.pem",
            "--changed", changed)
        up2 = updater(work, base, repo, "downloads2")
        up2.refresh()
        assert fetch(up2, changed) == new
        assert up2.get_targetinfo(changed).hashes["sha256"] == hashlib.sha256(new).hexdigest()
        for path in picked[:-1]:
            assert fetch(up2, path) == (index / path).read_bytes(), path
        print(f"  ngclient: after the incremental publish {changed} has the new bytes")

        # 3. A tampered hash-named copy on the server is refused.
        victim = picked[1]
        digest = hashlib.sha256((index / victim).read_bytes()).hexdigest()
        d, _, name = victim.rpartition("/")
        copy = repo / "targets" / d / f"{digest}.{name}"
        assert copy.is_file(), f"no hash-named copy {copy}"
        data = bytearray(copy.read_bytes())
        data[0] ^= 0x01
        copy.write_bytes(bytes(data))
        up3 = updater(work, base, repo, "downloads3")
        up3.refresh()
        info = up3.get_targetinfo(victim)
        try:
            up3.download_target(info)
        except LengthOrHashMismatchError as e:
            print(f"  ngclient: tampered {victim} refused: {e}")
        else:
            raise AssertionError("ngclient accepted a tampered target")
        assert not (work / "downloads3" / victim.replace("/", "%2F")).exists()
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
