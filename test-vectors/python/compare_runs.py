#!/usr/bin/env python3
"""Check that two runs of generate.py differ only where the algorithms are randomized.

    python generate.py --out /tmp/run1
    python generate.py --out /tmp/run2
    python compare_runs.py /tmp/run1 /tmp/run2

ed25519 signatures (and everything that is not a signature) must be byte-identical
between runs. Signatures by ECDSA and RSA-PSS keys are randomized: they are masked
before comparing. Uses the standard library only. Exits 1 on any other difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MASK = "<randomized>"


def keytypes(value: Any, found: dict[str, str]) -> None:
    """Collect keyid -> keytype from every 'keys' object anywhere in value."""
    if isinstance(value, dict):
        keys = value.get("keys")
        if isinstance(keys, dict):
            for keyid, key in keys.items():
                if isinstance(key, dict) and "keytype" in key:
                    found[keyid] = key["keytype"]
        for v in value.values():
            keytypes(v, found)
    elif isinstance(value, list):
        for v in value:
            keytypes(v, found)


def mask_envelopes(value: Any, types: dict[str, str]) -> None:
    """Mask the 'sig' of every signature whose key is not ed25519."""
    if isinstance(value, dict):
        sigs = value.get("signatures")
        if isinstance(sigs, list):
            for sig in sigs:
                if isinstance(sig, dict) and types.get(sig.get("keyid")) != "ed25519":
                    sig["sig"] = MASK
        for v in value.values():
            mask_envelopes(v, types)
    elif isinstance(value, list):
        for v in value:
            mask_envelopes(v, types)


def normalized(path: Path) -> Any:
    vector = json.loads(path.read_text(encoding="utf-8"))
    if "metadata_text" in vector:
        vector["metadata_text"] = json.loads(vector["metadata_text"])
    if path.parent.name == "signature" and vector["key"]["keytype"] != "ed25519":
        vector["signature"] = MASK
    types: dict[str, str] = {}
    keytypes(vector, types)
    mask_envelopes(vector, types)
    return vector


def main() -> int:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    names_a = {p.relative_to(a) for p in a.glob("*/py-*.json")}
    names_b = {p.relative_to(b) for p in b.glob("*/py-*.json")}
    bad = 0
    for name in sorted(names_a ^ names_b):
        print(f"only in one run: {name}")
        bad += 1
    identical = randomized = 0
    for name in sorted(names_a & names_b):
        if (a / name).read_bytes() == (b / name).read_bytes():
            identical += 1
        elif normalized(a / name) == normalized(b / name):
            randomized += 1
        else:
            print(f"differs beyond randomized signatures: {name}")
            bad += 1
    print(f"{identical} identical, {randomized} differ only in ECDSA/RSA signatures, "
          f"{bad} unexpected differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
