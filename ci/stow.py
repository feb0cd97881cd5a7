#!/usr/bin/env python3
"""Minimal STOW-RS client (Python standard library only) for loading DICOM files into a DICOMweb origin server.

  stow.py URL FILE [FILE ...]              e.g. URL = http://127.0.0.1:18042/dicom-web/studies
  stow.py URL --files-from LIST            LIST holds one path a line ("-" = standard input)
  stow.py URL --batch 100 FILE ...         instances per request (default 100)

Each request is POST URL with Content-Type: multipart/related; type="application/dicom"; boundary=...,
one part per file, Accept: application/dicom+json. A batch counts as stored when the server answers 200/202 and
its ReferencedSOPSequence (0008,1199) lists every instance of the batch and FailedSOPSequence (0008,1198) is empty.

HTTP Basic auth: STOW_USER and STOW_PASSWORD in the environment (or --user / --password-env NAME).
Exit status: 0 all batches stored, 1 some batch failed, 2 usage error. One line per batch on stderr with -v,
one summary line on stdout.
"""
import argparse, base64, json, os, sys, time, urllib.error, urllib.request, uuid


def post_batch(url, files, auth, timeout):
    boundary = uuid.uuid4().hex
    parts = []
    for f in files:
        with open(f, "rb") as fh:
            parts.append(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + fh.read() + b"\r\n")
    body = b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Accept": "application/dicom+json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), len(body)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), len(body)


def count_seq(answer, tag):
    item = answer.get(tag) or {}
    return len(item.get("Value") or [])


def main():
    ap = argparse.ArgumentParser(description="STOW-RS loader (multipart/related, batched)")
    ap.add_argument("url")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--files-from", help="file with one path a line, '-' for standard input")
    ap.add_argument("--batch", type=int, default=100, help="instances per request (default 100)")
    ap.add_argument("--user", default=os.environ.get("STOW_USER"))
    ap.add_argument("--password-env", default="STOW_PASSWORD", help="environment variable with the password")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request (default 300)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per batch on stderr")
    a = ap.parse_args()
    files = list(a.files)
    if a.files_from:
        src = sys.stdin if a.files_from == "-" else open(a.files_from, encoding="utf-8")
        files += [line.strip() for line in src if line.strip()]
    if not files or a.batch < 1:
        ap.print_usage(sys.stderr)
        print("stow.py: no files given (or --batch < 1)", file=sys.stderr)
        return 2
    auth = f"{a.user}:{os.environ.get(a.password_env, '')}" if a.user else None

    t0 = time.monotonic()
    sent_bytes = stored = failed_batches = 0
    batches = [files[i:i + a.batch] for i in range(0, len(files), a.batch)]
    for n, batch in enumerate(batches, start=1):
        tb = time.monotonic()
        status, payload, size = post_batch(a.url, batch, auth, a.timeout)
        sent_bytes += size
        ok_count = fail_count = 0
        try:
            answer = json.loads(payload) if payload else {}
            if isinstance(answer, list):  # some servers wrap the single response data set in an array
                answer = answer[0] if answer else {}
            ok_count, fail_count = count_seq(answer, "00081199"), count_seq(answer, "00081198")
        except (ValueError, AttributeError):
            answer = None
        good = status in (200, 202) and ok_count == len(batch) and fail_count == 0
        stored += ok_count
        if not good:
            failed_batches += 1
            print(f"stow: batch {n}/{len(batches)} FAILED: HTTP {status}, {ok_count} stored, {fail_count} failed "
                  f"of {len(batch)} (first file {batch[0]}): {payload[:500].decode('utf-8', 'replace')}",
                  file=sys.stderr)
        elif a.verbose:
            print(f"stow: batch {n}/{len(batches)}: HTTP {status}, {ok_count} stored, {size / 1e6:.1f} MB in "
                  f"{time.monotonic() - tb:.2f} s", file=sys.stderr)
    dt = time.monotonic() - t0
    print(f"stow: {stored}/{len(files)} instances stored in {len(batches)} requests, {sent_bytes / 1e6:.1f} MB in "
          f"{dt:.1f} s ({sent_bytes / 1e6 / max(dt, 1e-9):.1f} MB/s), {failed_batches} failed requests")
    return 1 if failed_batches else 0


if __name__ == "__main__":
    sys.exit(main())
