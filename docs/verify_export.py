#!/usr/bin/env python3
"""Check a contact-gateway evidence export on your own, without the gateway.

    python3 verify_export.py EXPORT.json 'VERIFIER_KEY'
    python3 verify_export.py EXPORT.csv  verifier-key.txt

EXPORT is a JSON or CSV export (contact-gateway evidence export). VERIFIER_KEY is the
key the organisation published (name+id+key), or a file holding it. Needs Python 3.11
or later and the 'cryptography' package (pip install cryptography); nothing else.

It checks that:
  1. every record's hash is the SHA-256 of its contents (nothing in a record was changed);
  2. records next to each other in the log are linked (prev_hash);
  3. the checkpoint in the export is signed by the published key;
  4. the log still held at least as many records as the checkpoint when exported;
  5. every record's inclusion proof leads to the checkpoint's root (each record is in
     the log the organisation signed, at its place).
It prints what it found in plain words and exits 0 if all is well, 1 if not.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def read_key(text: str) -> tuple[str, bytes, bytes]:
    """A verifier key 'name+keyid+base64(0x01 || key)': name, key ID, public key."""
    if "+" not in text and Path(text).is_file():
        text = Path(text).read_text(encoding="utf-8")
    name, key_id, key = text.strip().split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("it is not an Ed25519 verifier key")
    expected = sha256(name.encode() + b"\n" + raw)[:4]
    if expected.hex() != key_id:
        raise ValueError("its key ID does not match its name and key (mistyped?)")
    return name, expected, raw[1:]


def open_checkpoint(note: str, name: str, key_id: bytes, key: bytes) -> tuple[int, bytes]:
    """The tree size and root of a signed checkpoint, once its signature verifies."""
    cut = note.rfind("\n\n")
    if cut < 0:
        raise ValueError("it has no signature")
    text, signatures = note[: cut + 1], note[cut + 2 :].splitlines()
    ours = []
    for line in signatures:
        dash, signer, encoded = line.split(" ", 2)
        raw = base64.b64decode(encoded, validate=True)
        if dash == "\u2014" and signer == name and raw[:4] == key_id:
            ours.append(raw[4:])
    if not ours:
        raise ValueError("it is not signed by the published key")
    for signature in ours:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, text.encode())
        except InvalidSignature:
            raise ValueError("its signature does not verify: it was altered") from None
    origin, size, root = text.splitlines()[:3]
    if origin != name:
        raise ValueError(f"it is the checkpoint of another log ({origin})")
    return int(size), base64.b64decode(root, validate=True)


def proof_leads_to_root(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: the inclusion proof of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def cell(value: object) -> str:
    """How the CSV export writes a value in its own column (for people to read)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def load(path: Path) -> tuple[list[dict], dict, int, dict]:
    """Records (seq, hash, prev_hash, recomputed hash), the checkpoint section, the log's
    head when exported, and each record's proof, from a JSON or CSV export."""
    text = path.read_bytes().decode("utf-8")  # as written: no newline is translated
    if text.lstrip().startswith("{"):
        export = json.loads(text)
        records = []
        for record in export["records"]:
            body = {k: v for k, v in record.items() if k != "hash"}
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            records.append({**record, "recomputed": sha256(canonical.encode()).hex()})
        proofs = {p["seq"]: p for p in export.get("proofs", [])}
        return records, export.get("checkpoint") or {}, export["chain"]["head_seq"], proofs
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    records, proofs = [], {}
    for row in rows:
        body = json.loads(row["canonical_json"])
        record = {
            "seq": int(row["seq"]),
            "hash": row["hash"],
            "prev_hash": body["prev_hash"],
            "recomputed": sha256(row["canonical_json"].encode()).hex(),
        }
        for name, value in body.items():
            if name in row and row[name] != cell(value):
                record["recomputed"] = f"its {name} column differs from the text that was hashed"
        records.append(record)
        path_cell = row.get("inclusion_proof", "")
        proofs[record["seq"]] = {
            "leaf_hash": row.get("leaf_hash") or None,
            "inclusion_proof": None if path_cell == "unavailable" else path_cell.split(),
        }
    first = rows[0] if rows else {}
    checkpoint = {
        "signed_note": first.get("checkpoint") or None,
        "verifier_key": first.get("verifier_key") or None,
    }
    head = int(first["chain_head_seq"]) if rows else 0
    return records, checkpoint, head, proofs


def check(path: Path, key_text: str) -> list[str]:
    """Every problem found, in plain words (none: the export checks)."""
    problems = []
    records, checkpoint, head, proofs = load(path)
    previous = None
    for record in records:
        if record["recomputed"] != record["hash"]:
            why = record["recomputed"] if " " in record["recomputed"] else "its hash does not match"
            problems.append(f"record {record['seq']} has been altered: {why}")
        follows = previous is not None and record["seq"] == previous["seq"] + 1
        if follows and record["prev_hash"] != previous["hash"]:
            problems.append(f"record {record['seq']} does not follow record {previous['seq']}")
        previous = record
    try:
        name, key_id, key = read_key(key_text)
    except ValueError as exc:
        return [*problems, f"the verifier key given cannot be used: {exc}"]
    if not checkpoint.get("signed_note"):
        return [*problems, "the export carries no signed checkpoint, so nothing is proved"]
    try:
        size, root = open_checkpoint(checkpoint["signed_note"], name, key_id, key)
    except ValueError as exc:
        return [*problems, f"the export's checkpoint cannot be trusted: {exc}"]
    if size > head:
        problems.append(
            f"the organisation signed a log of {size} records, but when this was exported "
            f"the log held only {head}: records have been removed since"
        )
    for record in records:
        proof = proofs.get(record["seq"]) or {}
        leaf = sha256(b"\x00" + bytes.fromhex(record["hash"]))
        path_hex = proof.get("inclusion_proof")
        if record["seq"] > size:
            problems.append(f"record {record['seq']} is newer than the checkpoint ({size})")
        elif path_hex is None or proof.get("leaf_hash") != leaf.hex():
            problems.append(f"record {record['seq']} has no proof that it is in the signed log")
        elif not proof_leads_to_root(
            leaf, record["seq"] - 1, size, [bytes.fromhex(h) for h in path_hex], root
        ):
            problems.append(
                f"record {record['seq']} is not in the log the organisation signed: it was "
                "changed, or the log was re-written, after the checkpoint"
            )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path = Path(argv[1])
    try:
        problems = check(path, argv[2])
    except (OSError, ValueError, KeyError) as exc:
        print(f"NOT CHECKED: {path} could not be read as an evidence export ({exc})")
        return 1
    if problems:
        print(f"FAILED: {path} does not check out:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(
        f"OK: every record in {path} is unchanged and is in the evidence log signed with "
        "the published key."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
