#!/usr/bin/env python3
"""Regenerate the test vectors named ``py-*.json`` with securesystemslib and python-tuf.

Run by hand (not in CI), from any directory, with the pinned packages of
``requirements.txt`` installed:

    python3 -m venv /tmp/pyvec-venv
    /tmp/pyvec-venv/bin/pip install -r test-vectors/python/requirements.txt
    /tmp/pyvec-venv/bin/python test-vectors/python/generate.py

Every expected outcome written to a vector is what the python libraries did with that
exact input, never what this script assumes: each case also states the outcome it was
written to show, and generation stops if the libraries disagree with it.

The private keys are fixed test keys in ``keys/`` (see keys/README.md) so that key ids
and ed25519 signatures are the same on every run. ECDSA and RSA-PSS signatures are
randomized, so files holding them change on every run (and only in their signatures).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
import warnings
from datetime import datetime, timezone
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from securesystemslib.exceptions import (
    FormatError,
    UnverifiedSignatureError,
    VerificationError,
)
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey
from securesystemslib.signer._utils import compute_default_keyid
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

# The deprecated keytype "ecdsa-sha2-nistp256" is used on purpose (it is still found in
# real metadata); securesystemslib warns about it on every use.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="securesystemslib")

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent
KEYS_DIR = HERE / "keys"
KINDS = ("cjson", "keyid", "signature", "metadata")

SOURCE = (
    f"securesystemslib {dist_version('securesystemslib')} / "
    f"python-tuf {dist_version('tuf')} (python/generate.py)"
)

# Far enough in the future that no consumer's clock makes these expire.
EXPIRES = datetime(2099, 1, 1, tzinfo=timezone.utc)

# Order of the NIST P-256 group (for the high-S ECDSA case).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# Order of the ed25519 base point (for the non-canonical S case).
ED25519_L = 2**252 + 27742317777372353535851937790883648493


class Mismatch(Exception):
    """The libraries did not do what a case was written to show."""


# --------------------------------------------------------------------------- output


class Writer:
    """Collects vectors and writes them as test-vectors/<kind>/py-<name>.json."""

    def __init__(self, out: Path):
        self.out = out
        self.files: dict[Path, str] = {}

    def add(self, kind: str, name: str, body: dict[str, Any]) -> None:
        assert kind in KINDS, kind
        path = self.out / kind / f"py-{name}.json"
        if path in self.files:
            raise Mismatch(f"two vectors named {path}")
        vector = {"description": body.pop("description"), "source": SOURCE}
        expect = body.pop("expect")
        vector.update(body)
        vector["expect"] = expect
        self.files[path] = json.dumps(vector, indent=2, ensure_ascii=False) + "\n"

    def write(self) -> None:
        for kind in KINDS:
            directory = self.out / kind
            directory.mkdir(parents=True, exist_ok=True)
            # Only files named py-*.json are ours; drop the old ones so a removed case
            # does not linger.
            for old in directory.glob("py-*.json"):
                old.unlink()
        for path, text in sorted(self.files.items()):
            path.write_text(text, encoding="utf-8")

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for p in self.files if p.parent.name == k) for k in KINDS}


# --------------------------------------------------------------------------- keys

# name -> how to make it (only with --create-missing-keys; the committed files are used
# otherwise, so that key ids never change).
KEY_SPECS = {
    # signature/ and keyid/ vectors
    "ed25519-a": "ed25519",
    "ed25519-b": "ed25519",
    "ecdsa-p256-a": "ecdsa-p256",
    "ecdsa-p256-b": "ecdsa-p256",
    "rsa2048-a": "rsa2048",
    "rsa2048-b": "rsa2048",
    "rsa3072-a": "rsa3072",
    "rsa3072-b": "rsa3072",
    # metadata/ vectors
    "root-ed25519": "ed25519",
    "root-ecdsa": "ecdsa-p256",
    "root-rsa": "rsa2048",
    "timestamp": "ed25519",
    "snapshot": "ed25519",
    "targets": "ed25519",
    "crates-explicit": "ed25519",
    "crates-hashed": "ed25519",
    "crates-pinned-ed25519": "ed25519",
    "crates-pinned-ecdsa": "ecdsa-p256",
    "crates-bin": "ed25519",
}


def load_keys(create_missing: bool) -> dict[str, Any]:
    keys = {}
    for name, kind in KEY_SPECS.items():
        path = KEYS_DIR / f"{name}.pem"
        if not path.exists():
            if not create_missing:
                raise SystemExit(
                    f"missing test key {path}; the committed keys keep key ids stable. "
                    "Pass --create-missing-keys only when adding a new key."
                )
            if kind == "ed25519":
                private = ed25519.Ed25519PrivateKey.generate()
            elif kind == "ecdsa-p256":
                private = ec.generate_private_key(ec.SECP256R1())
            else:
                private = rsa.generate_private_key(65537, int(kind[3:]))
            KEYS_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            print(f"created test key {path}", file=sys.stderr)
        keys[name] = serialization.load_pem_private_key(path.read_bytes(), None)
    return keys


def signer_for(private: Any, legacy_ecdsa_keytype: bool = False) -> CryptoSigner:
    """A securesystemslib signer; its public key and key id come from securesystemslib."""
    public = SSlibKey.from_crypto(private.public_key())
    if legacy_ecdsa_keytype:
        keytype = scheme = "ecdsa-sha2-nistp256"
        keyval = public.keyval
        public = SSlibKey(
            compute_default_keyid(keytype, scheme, keyval), keytype, scheme, keyval
        )
    return CryptoSigner(private, public)


def canonical_bytes(value: Any) -> bytes:
    return encode_canonical(value).encode("utf-8")


# --------------------------------------------------------------------------- cjson

# (name, what it shows, JSON text fed to json.loads)
CJSON_CASES = [
    (
        "nested-objects",
        "nested objects and arrays: keys sorted at every level, whitespace dropped",
        '{ "b": { "d": [ 1, { "z": true, "y": null } ], "c": {} },\n  "a": [ [], [ [ ] ] ] }',
    ),
    (
        "key-order-ascii",
        "ASCII keys sort by code point: digits < upper case < '_' < lower case",
        '{"z": 1, "Z": 2, "a": 3, "A": 4, "_": 5, "1": 6, "aa": 7, "": 8}',
    ),
    (
        "key-order-unicode",
        "keys sort by code point (= UTF-8 byte order), not UTF-16: U+FF5E sorts before "
        "U+1F600 although its UTF-16 unit 0xFF5E is above the surrogate 0xD83D",
        '{"\\ud83d\\ude00": 1, "\\uff5e": 2, "\\u00e9": 3, "z": 4, "Z": 5, "e": 6}',
    ),
    (
        "key-order-nul-and-prefix",
        "a key that is a prefix sorts first; 'a\\u0000' sorts after 'a' and before 'a0', "
        "and the NUL is written raw",
        '{"a0": 1, "a\\u0000": 2, "a": 3, "b": 4}',
    ),
    (
        "key-order-raw-not-escaped",
        "keys sort by their raw characters, not their escaped form: 'a\"' (0x22) before "
        "'a#' (0x23) although the escaped 'a\\\\\"' has 0x5c there",
        '{"a#": 1, "a\\"": 2, "a\\\\": 3}',
    ),
    (
        "string-quote-backslash",
        'only " and \\ are escaped in strings',
        '["say \\"hi\\"", "back\\\\slash", "\\\\\\"", "\\/ solidus"]',
    ),
    (
        "control-chars-raw",
        "control characters (U+0000..U+001F, U+007F) are written raw, not escaped",
        '["\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u001b\\u001f\\u007f"]',
    ),
    (
        "control-chars-in-key",
        "control characters in object keys are written raw too",
        '{"line\\nbreak": "tab\\there", "\\u0001": 0}',
    ),
    (
        "unicode-raw",
        "non-ASCII characters given as \\u escapes are written as raw UTF-8",
        '{"name": "caf\\u00e9 \\u00fc\\u00f1\\u00ee\\u00e7\\u00f8d\\u00e9 \\u4e2d\\u6587 '
        '\\u2028\\u2029 \\ufeff"}',
    ),
    (
        "unicode-astral-surrogate-pair",
        "a surrogate pair escape becomes one astral character, written as 4 UTF-8 bytes",
        '"\\ud83d\\ude00 and \\ud834\\udd1e"',
    ),
    (
        "unicode-not-normalized",
        "strings are not Unicode-normalized: decomposed 'e\\u0301' and composed '\\u00e9' "
        "stay distinct keys and values",
        '{"e\\u0301": "e\\u0301", "\\u00e9": "\\u00e9"}',
    ),
    (
        "unicode-raw-input",
        "raw UTF-8 in the input text is kept as it is",
        '{"k": "\u00e9\u00e8 \U0001f980 \u0416"}',
    ),
    ("empty-object", "an empty object", "{ }"),
    ("empty-array", "an empty array", "[ ]"),
    ("empty-string", "an empty string", '""'),
    (
        "empty-containers-nested",
        "empty object, array and string as values",
        '{"o": {}, "a": [], "s": ""}',
    ),
    ("int-2pow53-plus-1", "2^53+1, beyond exact doubles, is kept exact", "9007199254740993"),
    ("int-i64-max", "2^63-1", "[9223372036854775807]"),
    ("int-u64-max", "2^64-1", '{"n": 18446744073709551615}'),
    (
        "int-negative",
        "negative integers, down to -2^63",
        "[-1, -42, -9007199254740993, -9223372036854775808]",
    ),
    ("int-zero", "zero", "0"),
    (
        "int-negative-zero",
        "the integer -0 is written as 0 (python parses it as the int 0)",
        "[-0]",
    ),
    (
        "bool-null",
        "true, false and null",
        '{"t": true, "f": false, "n": null, "l": [true, false, null]}',
    ),
    ("top-level-scalars", "an array of scalars of every kind", '[true, null, 7, "s"]'),
    (
        "array-order-kept",
        "array order is kept, never sorted",
        '["b", "a", 3, 1, 2, {"b": 1, "a": 2}]',
    ),
    (
        "whitespace-everywhere",
        "whitespace between tokens is dropped, whitespace inside strings kept",
        ' \n\t{ \r\n "a b" :\t[ 1 ,\n 2 ] , "c" : " x " } \n',
    ),
    (
        "tuf-signed-like",
        "a TUF-like signed object",
        '{"signed": {"_type": "timestamp", "spec_version": "1.0.31", "version": 3, '
        '"expires": "2099-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 3}}}, '
        '"signatures": []}',
    ),
    ("float-fraction", "a number with a fraction is refused", '{"a": 1.5}'),
    ("float-integral", "1.0 is a float, refused even though integral", "1.0"),
    ("float-exponent", "a number with an exponent is refused", "[1e3]"),
    ("float-negative-exponent", "a negative number with an exponent is refused", "-2E-2"),
    (
        "float-deep",
        "a float nested deep inside an object is refused",
        '{"a": {"b": [1, 2, {"c": 0.5}]}}',
    ),
]


def contains_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(contains_float(v) for v in value)
    if isinstance(value, dict):
        return any(contains_float(v) for v in value.values())
    return False


def gen_cjson(w: Writer) -> None:
    for name, description, text in CJSON_CASES:
        value = json.loads(text)
        try:
            out = encode_canonical(value)
            out.encode("utf-8")  # the vector's string is this text as UTF-8
            expect: dict[str, Any] = {"ok": out}
            if name.startswith("float"):
                raise Mismatch(f"cjson {name}: encode_canonical accepted a float")
        except FormatError:
            if not contains_float(value):
                raise Mismatch(f"cjson {name}: refused without a float")
            expect = {"error": "float"}
            description += " (encode_canonical raises FormatError)"
        w.add("cjson", name, {"description": description, "input": text, "expect": expect})


# --------------------------------------------------------------------------- keyid


def library_keyid(key_dict: dict[str, Any]) -> str:
    """The key id securesystemslib gives this key object (python-tuf has no other)."""
    key = SSlibKey.from_dict("unused", copy.deepcopy(key_dict))
    return compute_default_keyid(key.keytype, key.scheme, key.keyval)


def gen_keyid(w: Writer, keys: dict[str, Any]) -> None:
    cases = [
        ("ed25519", "ed25519-a", False, "an ed25519 key (keyval.public is 64 hex digits)"),
        (
            "ecdsa-p256",
            "ecdsa-p256-a",
            False,
            "an ecdsa-sha2-nistp256 key with keytype 'ecdsa' (keyval.public is PEM "
            "SubjectPublicKeyInfo with a trailing newline, hashed as written)",
        ),
        (
            "ecdsa-p256-legacy-keytype",
            "ecdsa-p256-a",
            True,
            "the same P-256 public key with the deprecated keytype "
            "'ecdsa-sha2-nistp256': a different key id, since keytype is hashed",
        ),
        ("rsa2048", "rsa2048-a", False, "an rsassa-pss-sha256 key (keytype 'rsa', 2048 bits)"),
        ("rsa3072", "rsa3072-a", False, "an rsassa-pss-sha256 key (keytype 'rsa', 3072 bits)"),
    ]
    for name, key_name, legacy, description in cases:
        signer = signer_for(keys[key_name], legacy)
        key_dict = signer.public_key.to_dict()
        keyid = library_keyid(key_dict)
        if keyid != signer.public_key.keyid:
            raise Mismatch(f"keyid {name}: from_crypto and compute_default_keyid differ")
        w.add(
            "keyid",
            name,
            {
                "description": description
                + "; key id = sha256 of the canonical JSON of {keytype, scheme, keyval}",
                "key": key_dict,
                "expect": {"ok": keyid},
            },
        )

    base = signer_for(keys["ed25519-a"]).public_key.to_dict()
    base_id = library_keyid(base)

    extra = {**copy.deepcopy(base), "x-custom": {"note": "unknown field"}}
    extra_id = library_keyid(extra)
    if extra_id != base_id:
        raise Mismatch("keyid: securesystemslib now hashes unknown key fields")
    w.add(
        "keyid",
        "ed25519-unknown-field-ignored",
        {
            "description": "a key object with an unknown top-level field 'x-custom': "
            "securesystemslib hashes only keytype, scheme and keyval, so the key id is "
            "the same as without the field (python-tuf itself never recomputes key ids: "
            "it uses the id the metadata gives)",
            "key": extra,
            "expect": {"ok": extra_id},
        },
    )

    legacy = {**copy.deepcopy(base), "keyid_hash_algorithms": ["sha256", "sha512"]}
    legacy_id = library_keyid(legacy)
    if legacy_id != base_id:
        raise Mismatch("keyid: securesystemslib now hashes keyid_hash_algorithms")
    w.add(
        "keyid",
        "ed25519-keyid-hash-algorithms-ignored",
        {
            "description": "a key object with the legacy 'keyid_hash_algorithms' field: "
            "current securesystemslib leaves it out of the hash like any unknown field "
            "(old securesystemslib releases included it, so legacy metadata has ids that "
            "do not match this)",
            "key": legacy,
            "expect": {"ok": legacy_id},
        },
    )

    inner = copy.deepcopy(base)
    inner["keyval"]["x-custom"] = "inside keyval"
    inner_id = library_keyid(inner)
    if inner_id == base_id:
        raise Mismatch("keyid: securesystemslib ignores extra keyval fields")
    w.add(
        "keyid",
        "ed25519-unknown-field-in-keyval-hashed",
        {
            "description": "an unknown field inside keyval is hashed (keyval is hashed "
            "whole), so the key id differs from the plain key's",
            "key": inner,
            "expect": {"ok": inner_id},
        },
    )


# --------------------------------------------------------------------------- signature

SIG_SIGNED = {
    "_type": "timestamp",
    "spec_version": "1.0.31",
    "version": 7,
    "expires": "2099-01-01T00:00:00Z",
    "meta": {"snapshot.json": {"version": 7}},
    "x-note": 'caf\u00e9 \U0001f600 "quoted" \\ back\nslash',
}
SIG_OTHER = {**SIG_SIGNED, "version": 8}


def python_verifies(key: SSlibKey, sig_hex: str, data: bytes) -> tuple[bool, str]:
    """securesystemslib's verdict, and how it reached it."""
    try:
        key.verify_signature(Signature(key.keyid, sig_hex), data)
        return True, "verified"
    except VerificationError as e:
        # A subclass of UnverifiedSignatureError: python-tuf counts it as 'not signed'.
        return False, f"VerificationError ({e.__cause__!r})"
    except UnverifiedSignatureError:
        return False, "UnverifiedSignatureError"


def flip_last_bit(sig_hex: str) -> str:
    raw = bytearray(bytes.fromhex(sig_hex))
    raw[-1] ^= 0x01
    return raw.hex()


def sig_vector(
    w: Writer,
    name: str,
    description: str,
    key: SSlibKey,
    sig_hex: str,
    intended: bool,
    signed: Any = SIG_SIGNED,
) -> None:
    got, how = python_verifies(key, sig_hex, canonical_bytes(signed))
    if got != intended:
        raise Mismatch(f"signature {name}: python says {got} ({how}), case expects {intended}")
    if not got:
        description += f" (securesystemslib: {how})"
    w.add(
        "signature",
        name,
        {
            "description": description,
            "key": key.to_dict(),
            "signed": signed,
            "signature": sig_hex,
            "expect": {"ok": got},
        },
    )


def gen_signature(w: Writer, keys: dict[str, Any]) -> None:
    schemes = [
        ("ed25519", "ed25519-a", "ed25519-b", False),
        ("ecdsa-p256", "ecdsa-p256-a", "ecdsa-p256-b", False),
        ("ecdsa-p256-legacy-keytype", "ecdsa-p256-a", "ecdsa-p256-b", True),
        ("rsa2048-pss", "rsa2048-a", "rsa2048-b", False),
        ("rsa3072-pss", "rsa3072-a", "rsa3072-b", False),
    ]
    data = canonical_bytes(SIG_SIGNED)
    for prefix, a, b, legacy in schemes:
        signer = signer_for(keys[a], legacy)
        other = signer_for(keys[b], legacy)
        key = signer.public_key
        label = f"{key.keytype}/{key.scheme}"
        good = signer.sign(data).signature
        sig_vector(w, f"{prefix}-valid", f"{label}: a valid signature over the "
                   "canonical form of signed", key, good, True)
        sig_vector(w, f"{prefix}-other-message", f"{label}: a signature over a "
                   "different message (version 8 instead of 7)", key,
                   signer.sign(canonical_bytes(SIG_OTHER)).signature, False)
        sig_vector(w, f"{prefix}-other-key", f"{label}: a signature over the right "
                   "message by a different key of the same type", key,
                   other.sign(data).signature, False)
        sig_vector(w, f"{prefix}-truncated", f"{label}: a valid signature with its "
                   "last byte cut off", key, good[:-2], False)
        sig_vector(w, f"{prefix}-empty", f"{label}: an empty signature \"\"", key, "",
                   False)
        sig_vector(w, f"{prefix}-bit-flipped", f"{label}: a valid signature with the "
                   "lowest bit of its last byte flipped", key, flip_last_bit(good), False)

    # --- ECDSA encodings
    signer = signer_for(keys["ecdsa-p256-a"])
    key = signer.public_key
    good = signer.sign(data).signature
    r, s = decode_dss_signature(bytes.fromhex(good))
    high_s = s if s > P256_N // 2 else P256_N - s
    low_s = P256_N - high_s
    sig_vector(w, "ecdsa-p256-high-s", "ecdsa: a valid signature rewritten with "
               "s' = n - s in its upper half (not low-S normalized); securesystemslib "
               "(OpenSSL) accepts both forms", key,
               encode_dss_signature(r, high_s).hex(), True)
    sig_vector(w, "ecdsa-p256-low-s", "ecdsa: the same signature in low-S form, "
               "accepted", key, encode_dss_signature(r, low_s).hex(), True)
    sig_vector(w, "ecdsa-p256-raw-r-s", "ecdsa: the valid signature as raw 64-byte "
               "r||s (IEEE P1363) instead of DER; securesystemslib wants DER", key,
               (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex(), False)

    # --- ed25519 non-canonical S
    signer = signer_for(keys["ed25519-a"])
    key = signer.public_key
    raw = bytes.fromhex(signer.sign(data).signature)
    s_int = int.from_bytes(raw[32:], "little") + ED25519_L
    sig_vector(w, "ed25519-non-canonical-s", "ed25519: a valid signature with S "
               "replaced by S + L (same value mod L, not reduced); refused", key,
               (raw[:32] + s_int.to_bytes(32, "little")).hex(), False)

    # --- RSA-PSS salt lengths
    for bits in (2048, 3072):
        private = keys[f"rsa{bits}-a"]
        signer = signer_for(private)
        key = signer.public_key
        pub = private.public_key()
        lib_sig = bytes.fromhex(signer.sign(data).signature)
        # What does securesystemslib sign with? Its verifier uses PSS.AUTO, so check
        # against each fixed length: only the true one verifies.
        max_len = padding.calculate_max_pss_salt_length(pub, hashes.SHA256())
        used = [
            n
            for n in (0, 20, 32, 64, max_len)
            if _pss_ok(pub, lib_sig, data, n)
        ]
        if used != [32]:
            raise Mismatch(f"securesystemslib signs rsa-pss with salt length {used}, not [32]")
        sig_vector(w, f"rsa{bits}-pss-salt-digest-length", f"rsa {bits}: securesystemslib "
                   "signs RSA-PSS with salt length = digest length (32 bytes, "
                   "PSS.DIGEST_LENGTH) and MGF1-SHA256; this signature was checked to "
                   "verify with a fixed salt length of 32", key, lib_sig.hex(), True)
        for salt, label in ((max_len, f"the maximum salt length ({max_len} bytes)"),
                            (0, "salt length 0")):
            sig = private.sign(
                data,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt),
                hashes.SHA256(),
            )
            name = "max" if salt == max_len else str(salt)
            sig_vector(w, f"rsa{bits}-pss-salt-{name}", f"rsa {bits}: signed with "
                       f"{label} by pyca/cryptography directly; securesystemslib verifies "
                       "with PSS.AUTO (salt length read from the signature) and accepts it",
                       key, sig.hex(), True)
    private = keys["rsa2048-a"]
    sig = private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    sig_vector(w, "rsa2048-pss-key-pkcs1v15-signature", "rsa 2048: a PKCS#1 v1.5 "
               "signature over the right message under an rsassa-pss-sha256 key is "
               "refused", signer_for(private).public_key, sig.hex(), False)


def _pss_ok(pub: Any, sig: bytes, data: bytes, salt: int) -> bool:
    try:
        pub.verify(
            sig,
            data,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt),
            hashes.SHA256(),
        )
        return True
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- metadata


def python_metadata_outcome(
    role: str,
    envelope: dict[str, Any] | None = None,
    text: str | None = None,
    root: dict[str, Any] | None = None,
    self_signed: bool = False,
    delegator: dict[str, Any] | None = None,
    delegated_role: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Parse and verify with python-tuf the way its client (ngclient) does; map the
    outcome to an error code of test-vectors/README.md."""
    try:
        if text is not None:
            md = Metadata.from_bytes(text.encode("utf-8"))
        else:
            md = Metadata.from_dict(copy.deepcopy(envelope))
        # ngclient's TrustedMetadataSet checks the type of what it loaded.
        if md.signed.type != role:
            return {"error": "wrong-type"}, f"_type is {md.signed.type}, not {role}"
        payload = md.signed_bytes
        if self_signed:
            md.signed.verify_delegate("root", payload, md.signatures)
        if root is not None:
            Metadata.from_dict(copy.deepcopy(root)).signed.verify_delegate(
                role, payload, md.signatures
            )
        if delegator is not None:
            Metadata.from_dict(copy.deepcopy(delegator)).signed.verify_delegate(
                delegated_role, payload, md.signatures
            )
        return {"ok": {"version": md.signed.version}}, "ok"
    except UnsignedMetadataError as e:
        return {"error": "threshold"}, f"UnsignedMetadataError: {e}"
    except KeyError as e:
        return {"error": "missing-field"}, f"KeyError: {e}"
    except ValueError as e:
        msg = str(e)
        table = [
            ("spec_version", "spec-version"),
            ("Expected type", "wrong-type"),
            ("unrecognized metadata type", "wrong-type"),
            ("version must be > 0", "bad-version"),
            ("threshold should be at least 1", "bad-threshold"),
            ("does not match format", "bad-date"),
            ("unconverted data remains", "bad-date"),
            ("Multiple signatures found", "duplicate-signature"),
        ]
        for needle, code in table:
            if needle in msg:
                return {"error": code}, f"ValueError: {msg}"
        raise Mismatch(f"unclassified python-tuf error: {msg}") from e


class MetadataCases:
    def __init__(self, w: Writer, keys: dict[str, Any]):
        self.w = w
        self.s = {name: signer_for(keys[name]) for name in KEY_SPECS}

    def key(self, name: str) -> SSlibKey:
        """A copy of the public key, so a case may add unknown fields to it."""
        return copy.deepcopy(self.s[name].public_key)

    def keyid(self, name: str) -> str:
        return self.s[name].public_key.keyid

    def sign(self, signed: Any, *signers: str) -> dict[str, Any]:
        md = Metadata(signed)
        for name in signers:
            md.sign(self.s[name], append=True)
        return md.to_dict()

    def sign_raw(self, signed: dict[str, Any], *signers: str) -> dict[str, Any]:
        """Sign a signed dict the Metadata API refuses to build (for negative cases)."""
        data = canonical_bytes(signed)
        return {
            "signatures": [self.s[n].sign(data).to_dict() for n in signers],
            "signed": signed,
        }

    def add(self, name: str, description: str, role: str, intended: dict[str, Any],
            envelope: dict[str, Any] | None = None, text: str | None = None,
            root: dict[str, Any] | None = None, self_signed: bool = False,
            delegator: dict[str, Any] | None = None,
            delegated_role: str | None = None) -> None:
        expect, how = python_metadata_outcome(
            role, envelope, text, root, self_signed, delegator, delegated_role
        )
        if expect != intended:
            raise Mismatch(f"metadata {name}: python-tuf gave {expect} ({how}), "
                           f"case expects {intended}")
        if "error" in expect:
            description += f" (python-tuf: {how})"
        body: dict[str, Any] = {"description": description, "role": role}
        if text is not None:
            body["metadata_text"] = text
        else:
            body["metadata"] = envelope
        if self_signed:
            body["self_signed"] = True
        if root is not None:
            body["verify_with_root"] = root
        if delegator is not None:
            body["verify_with_delegator"] = delegator
            body["delegated_role"] = delegated_role
        body["expect"] = expect
        self.w.add("metadata", name, body)

    # ---- the signed parts

    def root(self, unknown: bool = False) -> Root:
        root = Root(version=1, expires=EXPIRES, consistent_snapshot=True)
        for name in ("root-ed25519", "root-ecdsa", "root-rsa"):
            root.add_key(self.key(name), "root")
        root.roles["root"].threshold = 2
        for role in ("timestamp", "snapshot", "targets"):
            root.add_key(self.key(role), role)
        if unknown:
            root.unrecognized_fields["x-extra"] = {"note": "unknown field in signed"}
            root.keys[self.keyid("root-ecdsa")].unrecognized_fields["x-extra"] = [1, 2]
            root.roles["targets"].unrecognized_fields["x-extra"] = "unknown role field"
        return root

    def timestamp(self, snapshot_env: dict[str, Any], spec: str | None = None) -> Timestamp:
        snap_bytes = json.dumps(snapshot_env, separators=(",", ":"), sort_keys=True).encode()
        meta = MetaFile(
            version=4,
            length=len(snap_bytes),
            hashes={"sha256": hashlib.sha256(snap_bytes).hexdigest()},
        )
        return Timestamp(version=5, spec_version=spec, expires=EXPIRES,
                         snapshot_meta=meta)

    def snapshot(self, bin_role: str) -> Snapshot:
        meta = {
            f"{n}.json": MetaFile(version=v)
            for n, v in (("targets", 3), ("crates-explicit", 2), ("crates-hashed", 2),
                         ("crates-pinned", 2), (bin_role, 2))
        }
        return Snapshot(version=4, expires=EXPIRES, meta=meta)

    def targets_delegations(self, unknown: bool = False) -> Targets:
        roles = {
            "crates-explicit": DelegatedRole(
                "crates-explicit", [self.keyid("crates-explicit")], 1, False,
                paths=["se/rd/*", "crates/*"],
            ),
            "crates-hashed": DelegatedRole(
                "crates-hashed", [self.keyid("crates-hashed")], 1, True,
                path_hash_prefixes=["8f", "a0", "c3d"],
            ),
            "crates-pinned": DelegatedRole(
                "crates-pinned",
                [self.keyid("crates-pinned-ed25519"), self.keyid("crates-pinned-ecdsa")],
                2, True, paths=["pinned/*"],
            ),
        }
        keys = {
            self.keyid(n): self.key(n)
            for n in ("crates-explicit", "crates-hashed", "crates-pinned-ed25519",
                      "crates-pinned-ecdsa")
        }
        data = b'{"name":"cargo-tuf","vers":"0.1.0"}\n'
        targets = {"ca/rg/cargo-tuf": TargetFile.from_data("ca/rg/cargo-tuf", data,
                                                           ["sha256", "sha512"])}
        if unknown:
            keys[self.keyid("crates-explicit")].unrecognized_fields["x-extra"] = "k"
            roles["crates-explicit"].unrecognized_fields["x-extra"] = {"r": True}
            targets["ca/rg/cargo-tuf"].unrecognized_fields["custom"] = {
                "x-extra": {"yanked": False},
                "note": "custom is free-form",
            }
        t = Targets(version=3, expires=EXPIRES, targets=targets,
                    delegations=Delegations(keys=keys, roles=roles))
        if unknown:
            t.unrecognized_fields["x-extra"] = 12345
        return t

    def succinct(self) -> SuccinctRoles:
        return SuccinctRoles([self.keyid("crates-bin")], 1, 8, "crates-bin")

    def targets_succinct(self) -> Targets:
        delegations = Delegations(
            keys={self.keyid("crates-bin"): self.key("crates-bin")},
            roles=None,
            succinct_roles=self.succinct(),
        )
        return Targets(version=3, expires=EXPIRES, delegations=delegations)

    def generate(self) -> None:  # noqa: PLR0915
        ok = lambda v: {"ok": {"version": v}}  # noqa: E731
        err = lambda c: {"error": c}  # noqa: E731

        # ---- root
        root_env = self.sign(self.root(), "root-ed25519", "root-ecdsa", "root-rsa")
        self.add("root-2of3-signed-by-all", "root v1 with three root keys of mixed "
                 "types (ed25519, ecdsa P-256, rsa 2048 PSS), threshold 2, signed by all "
                 "three", "root", ok(1), root_env, self_signed=True)
        self.add("root-2of3-signed-by-ecdsa-rsa", "the same root signed by the ecdsa "
                 "and rsa root keys only: 2 of 3 meets the threshold", "root", ok(1),
                 self.sign(self.root(), "root-ecdsa", "root-rsa"), self_signed=True)
        self.add("root-threshold-not-met", "the same root (threshold 2) signed by only "
                 "one root key", "root", err("threshold"),
                 self.sign(self.root(), "root-ed25519"), self_signed=True)
        self.add("root-signed-by-non-root-keys", "root signed by the timestamp and "
                 "snapshot keys, which are in root but not root keys", "root",
                 err("threshold"), self.sign(self.root(), "timestamp", "snapshot"),
                 self_signed=True)
        self.add("root-unknown-fields", "root with unknown fields 'x-extra' at the top "
                 "of signed, inside a key and inside a role: kept and signed over, "
                 "accepted; the key with the unknown field is listed under the id "
                 "securesystemslib computes, which leaves that field out", "root", ok(1),
                 self.sign(self.root(unknown=True), "root-ed25519", "root-ecdsa"),
                 self_signed=True)
        changed = self.sign(self.root(), "root-ed25519", "root-ecdsa")
        changed["signed"]["consistent_snapshot"] = False
        self.add("root-changed-after-signing", "root whose signed part was changed "
                 "(consistent_snapshot true -> false) after signing", "root",
                 err("threshold"), changed, self_signed=True)
        bad_threshold = self.root().to_dict()
        bad_threshold["roles"]["timestamp"]["threshold"] = 0
        self.add("root-role-threshold-0", "root with a role threshold of 0, validly "
                 "signed", "root", err("bad-threshold"),
                 self.sign_raw(bad_threshold, "root-ed25519", "root-ecdsa"),
                 self_signed=True)

        # ---- the delegation graph
        succinct = self.succinct()
        bin_target = "se/rd/serde"
        bin_role = succinct.get_role_for_target(bin_target)
        targets_env = self.sign(self.targets_delegations(), "targets")
        succinct_env = self.sign(self.targets_succinct(), "targets")
        snapshot_env = self.sign(self.snapshot(bin_role), "snapshot")
        timestamp_env = self.sign(self.timestamp(snapshot_env), "timestamp")

        self.add("timestamp", "timestamp v5 (snapshot meta with version, length and "
                 "sha256), signed by the timestamp key", "timestamp", ok(5),
                 timestamp_env, root=root_env)
        self.add("snapshot", "snapshot v4 listing targets and delegated roles, signed "
                 "by the snapshot key", "snapshot", ok(4), snapshot_env, root=root_env)
        self.add("targets-delegations", "targets v3 with a target (sha256 and sha512) "
                 "and delegations: 'crates-explicit' (paths, terminating false), "
                 "'crates-hashed' (path_hash_prefixes, terminating true), 'crates-pinned' "
                 "(paths, 2 of 2 keys ed25519 + ecdsa, terminating true)", "targets",
                 ok(3), targets_env, root=root_env)
        self.add("targets-succinct-roles", "targets v3 delegating with TAP 15 "
                 "succinct_roles (bit_length 8, name_prefix 'crates-bin': 256 bins "
                 "crates-bin-00 .. crates-bin-ff)", "targets", ok(3), succinct_env,
                 root=root_env)
        self.add("targets-unknown-fields", "targets with unknown fields 'x-extra' at the "
                 "top of signed, inside a delegation key, inside a delegated role, and in "
                 "a target's custom object: accepted", "targets", ok(3),
                 self.sign(self.targets_delegations(unknown=True), "targets"),
                 root=root_env)

        # unicode + python's own (non-canonical, \u-escaping) file format as raw text
        t = Targets(version=3, expires=EXPIRES)
        data = b"caf\xc3\xa9\n"
        tf = TargetFile.from_data("ca/fe/caf\u00e9", data, ["sha256"])
        tf.unrecognized_fields["custom"] = {"description": "caf\u00e9 \U0001f600 \"\\"}
        t.targets[tf.path] = tf
        md = Metadata(t)
        md.sign(self.s["targets"])
        text = md.to_bytes(JSONSerializer(compact=False)).decode("utf-8")
        if "\\u00e9" not in text:
            raise Mismatch("python's JSONSerializer no longer escapes non-ASCII")
        self.add("targets-text-escaped-unicode", "targets as python-tuf writes the file "
                 "(indent 1, non-ASCII as \\u escapes incl. a surrogate pair): the "
                 "signature is over the canonical form with raw UTF-8, so the escapes "
                 "must be decoded before canonicalizing", "targets", ok(3), text=text,
                 root=root_env)

        # ---- delegated roles, verified with their delegator's keys
        data = b'{"name":"serde","vers":"1.0.0","deps":[],"cksum":"00","features":{}}\n'
        explicit = Targets(version=2, expires=EXPIRES, targets={
            bin_target: TargetFile.from_data(bin_target, data, ["sha256"])})
        self.add("delegated-explicit", "delegated targets 'crates-explicit' (a target "
                 "'se/rd/serde'), signed by its key from the delegator's delegations",
                 "targets", ok(2), self.sign(explicit, "crates-explicit"),
                 delegator=targets_env, delegated_role="crates-explicit")
        pinned = Targets(version=2, expires=EXPIRES)
        self.add("delegated-pinned-2of2", "delegated targets 'crates-pinned' (threshold "
                 "2) signed by both its ed25519 and ecdsa keys", "targets", ok(2),
                 self.sign(pinned, "crates-pinned-ed25519", "crates-pinned-ecdsa"),
                 delegator=targets_env, delegated_role="crates-pinned")
        self.add("delegated-pinned-1of2", "delegated targets 'crates-pinned' (threshold "
                 "2) signed by only one of its keys", "targets", err("threshold"),
                 self.sign(pinned, "crates-pinned-ed25519"),
                 delegator=targets_env, delegated_role="crates-pinned")

        bin_md = Targets(version=2, expires=EXPIRES, targets={
            bin_target: TargetFile.from_data(bin_target, data, ["sha256"])})
        self.add("delegated-succinct-bin", f"hash bin '{bin_role}' (the bin of "
                 f"'{bin_target}': first 8 bits of sha256('{bin_target}')) with that "
                 "target (length, sha256), signed by the succinct_roles key", "targets",
                 ok(2), self.sign(bin_md, "crates-bin"), delegator=succinct_env,
                 delegated_role=bin_role)
        self.add("delegated-succinct-bin-wrong-key", f"hash bin '{bin_role}' signed by "
                 "the top-level targets key (the delegator's own key), which is not a bin "
                 "key", "targets", err("threshold"), self.sign(bin_md, "targets"),
                 delegator=succinct_env, delegated_role=bin_role)
        self.add("delegated-explicit-wrong-key", "delegated 'crates-explicit' signed by "
                 "the 'crates-hashed' key, which the delegator lists for another role",
                 "targets", err("threshold"), self.sign(explicit, "crates-hashed"),
                 delegator=targets_env, delegated_role="crates-explicit")

        # ---- negative and edge cases on timestamp (verified with root)
        self.add("timestamp-signed-by-snapshot-key", "timestamp signed by the snapshot "
                 "key, which root does not list for timestamp", "timestamp",
                 err("threshold"), self.sign(self.timestamp(snapshot_env), "snapshot"),
                 root=root_env)
        self.add("timestamp-extra-signature-unlisted-key", "timestamp signed by the "
                 "timestamp key and also by the snapshot key, which is not a timestamp "
                 "key: the extra signature is ignored", "timestamp", ok(5),
                 self.sign(self.timestamp(snapshot_env), "snapshot", "timestamp"),
                 root=root_env)
        changed = copy.deepcopy(timestamp_env)
        changed["signed"]["version"] = 6
        self.add("timestamp-changed-after-signing", "timestamp whose version was changed "
                 "(5 -> 6) after signing", "timestamp", err("threshold"), changed,
                 root=root_env)
        for spec in ("1.0.31", "1.0", "1.0.0", "1.99.7"):
            self.add(f"timestamp-spec-version-{spec}", f"spec_version \"{spec}\": python-tuf "
                     "accepts any 1.x (X.Y or X.Y.Z)", "timestamp", ok(5),
                     self.sign(self.timestamp(snapshot_env, spec), "timestamp"),
                     root=root_env)
        for spec in ("2.0.0", "0.9.0"):
            signed = self.timestamp(snapshot_env).to_dict()
            signed["spec_version"] = spec
            self.add(f"timestamp-spec-version-{spec}", f"spec_version \"{spec}\", validly "
                     "signed: the major version is not 1", "timestamp",
                     err("spec-version"), self.sign_raw(signed, "timestamp"),
                     root=root_env)
        self.add("timestamp-wrong-type", "a validly signed snapshot given where timestamp "
                 "is expected", "timestamp", err("wrong-type"), snapshot_env,
                 root=root_env)
        signed = self.timestamp(snapshot_env).to_dict()
        del signed["expires"]
        self.add("timestamp-missing-expires", "timestamp without 'expires', validly "
                 "signed", "timestamp", err("missing-field"),
                 self.sign_raw(signed, "timestamp"), root=root_env)
        signed = self.timestamp(snapshot_env).to_dict()
        signed["version"] = 0
        self.add("timestamp-version-0", "timestamp with version 0, validly signed",
                 "timestamp", err("bad-version"), self.sign_raw(signed, "timestamp"),
                 root=root_env)
        for label, date in (("date-only", "2099-01-01"),
                            ("offset", "2099-01-01T00:00:00+00:00"),
                            ("fraction", "2099-01-01T00:00:00.000Z")):
            signed = self.timestamp(snapshot_env).to_dict()
            signed["expires"] = date
            self.add(f"timestamp-expires-{label}", f"timestamp with expires \"{date}\", "
                     "validly signed: python-tuf accepts only YYYY-MM-DDTHH:MM:SSZ",
                     "timestamp", err("bad-date"), self.sign_raw(signed, "timestamp"),
                     root=root_env)
        dup = copy.deepcopy(timestamp_env)
        dup["signatures"].append(copy.deepcopy(dup["signatures"][0]))
        self.add("timestamp-duplicate-signature", "timestamp whose one valid signature "
                 "appears twice: python-tuf refuses the file (it does not just count the "
                 "key once)", "timestamp", err("duplicate-signature"), dup, root=root_env)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=VECTORS,
                        help="directory holding cjson/ keyid/ signature/ metadata/ "
                        "(default: test-vectors/); use another one to compare two runs")
    parser.add_argument("--create-missing-keys", action="store_true",
                        help="generate keys/*.pem that do not exist (changes key ids!)")
    args = parser.parse_args()

    keys = load_keys(args.create_missing_keys)
    w = Writer(args.out)
    try:
        gen_cjson(w)
        gen_keyid(w, keys)
        gen_signature(w, keys)
        MetadataCases(w, keys).generate()
    except Mismatch as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 1
    w.write()
    print(SOURCE)
    for kind, n in w.counts().items():
        print(f"{kind}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
