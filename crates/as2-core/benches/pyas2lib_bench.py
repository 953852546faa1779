#!/usr/bin/env python3
"""Time pyas2lib 1.4.4 building and parsing the message the as2-core `codec` benchmark
measures: no compression, signed with SHA-256 (PKCS#1 v1.5), encrypted with AES-256-CBC
(PKCS#1 v1.5 key transport), 1 KB, 1 MB and 100 MB X12-like payloads, one RSA-2048 key.

Run with the interop venv (../shared/interop/setup.sh):
    /tmp/as2-interop-venv/bin/python pyas2lib_bench.py --certs DIR [--json OUT]
DIR holds us.pem / us.cert.pem from ../shared/interop/make_certs.sh. Prints one JSON
object: per size, the median per-message CPU time (process_time) and wall time of build
and of parse, in seconds, and the peak RSS of the process (max_rss_kib: the 100 MB
round trip dominates it). `--sizes 1KB,1MB` leaves out the 100 MB case (about 20 s of CPU
per operation and 1.8 GB of memory in pyas2lib).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

from pyas2lib import as2 as pyas2

# label, bytes, minimum runs (the 100 MB case runs twice: one run is ~20 s of CPU)
SIZES = [("1KB", 1024, 5), ("1MB", 1024 * 1024, 5), ("100MB", 100 * 1024 * 1024, 2)]
SEGMENT = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n"


def payload(n):
    return (SEGMENT * (n // len(SEGMENT) + 1))[:n]


def measure(fn, min_runs, min_seconds):
    """Median CPU and wall seconds of fn() over at least min_runs and min_seconds."""
    cpu, wall = [], []
    start = time.perf_counter()
    while len(cpu) < min_runs or time.perf_counter() - start < min_seconds:
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        if len(cpu) >= 2000:
            break
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall), "runs": len(cpu)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--certs", required=True)
    p.add_argument("--json", help="also write the result here")
    p.add_argument("--seconds", type=float, default=3.0, help="minimum seconds per case")
    p.add_argument("--sizes", default="1KB,1MB,100MB", help="comma-separated size labels")
    a = p.parse_args()

    with open(os.path.join(a.certs, "us.pem"), "rb") as fh:
        key = fh.read()
    with open(os.path.join(a.certs, "us.cert.pem"), "rb") as fh:
        cert = fh.read()
    sender = pyas2.Organization(as2_name="bench-a", sign_key=key, decrypt_key=key,
                                domain="bench.test")
    receiver_org = pyas2.Organization(as2_name="bench-b", sign_key=key, decrypt_key=key,
                                      domain="bench.test")
    to_b = pyas2.Partner(as2_name="bench-b", verify_cert=cert, encrypt_cert=cert,
                         validate_certs=False, sign=True, digest_alg="sha256",
                         encrypt=True, enc_alg="aes_256_cbc", compress=False)
    from_a = pyas2.Partner(as2_name="bench-a", verify_cert=cert, encrypt_cert=cert,
                           validate_certs=False)

    def build(data):
        msg = pyas2.Message(sender=sender, receiver=to_b)
        msg.build(data, content_type="application/edi-x12", subject="bench")
        body = msg.content if isinstance(msg.content, bytes) else msg.content.encode()
        head = b"".join(f"{k}: {v}\r\n".encode() for k, v in msg.payload.items())
        return head + b"\r\n" + body

    def parse(raw):
        msg = pyas2.Message()
        status, (exc, _tb), _mdn = msg.parse(
            raw, find_org_cb=lambda i: receiver_org if i == "bench-b" else None,
            find_partner_cb=lambda i: from_a if i == "bench-a" else None)
        if exc is not None or not (msg.signed and msg.encrypted):
            raise SystemExit(f"pyas2lib parse failed: {status} {exc!r}")
        return msg.content

    out = {"tool": "pyas2lib", "python": sys.version.split()[0], "cases": {}}
    wanted = set(a.sizes.split(","))
    for label, n, runs in SIZES:
        if label not in wanted:
            continue
        data = payload(n)
        raw = build(data)
        got = parse(raw)
        if len(got) != n:
            raise SystemExit(f"pyas2lib returned {len(got)} bytes for {n}")
        out["cases"][label] = {
            "build": measure(lambda: build(data), runs, a.seconds),
            "parse": measure(lambda: parse(raw), runs, a.seconds),
        }
        del data, raw, got
    out["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = json.dumps(out, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
