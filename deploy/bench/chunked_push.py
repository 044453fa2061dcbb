#!/usr/bin/env python3
"""Pushes a blob to an OCI registry in chunks, the way a registry client does, for deploy/bench/container.sh.

  chunked_push.py BASE_URL REPOSITORY FILE DIGEST CHUNK_MIB [USER:TOKEN]

POST to open an upload, one PATCH per chunk with its Content-Range, then PUT with the digest: all on one
keep-alive connection, each chunk read from FILE into one reused 1 MiB buffer and sent as it is read. One
process for the whole push, as docker, podman and skopeo are, so that the figure measures the registry and
not a client started once per chunk (a curl process per chunk cost about 0.3 s per GiB).
"""
import base64
import http.client
import os
import sys
import urllib.parse

base, repository, path, digest, chunk_mib = sys.argv[1:6]
headers = {}
if len(sys.argv) > 6:
    headers["Authorization"] = "Basic " + base64.b64encode(sys.argv[6].encode()).decode()
url = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(url.hostname, url.port)


def location(response):
    """The next request's path, from a successful answer's Location (absolute or not)."""
    body = response.read()
    if response.status >= 300:
        sys.exit(f"{response.status} {response.reason}: {body[:500]!r}")
    return urllib.parse.urlsplit(response.getheader("Location"))._replace(scheme="", netloc="").geturl()


conn.request("POST", f"/v2/{repository}/blobs/uploads/", headers=headers)
loc = location(conn.getresponse())
size, chunk = os.path.getsize(path), int(chunk_mib) << 20
buf = memoryview(bytearray(1 << 20))
with open(path, "rb", buffering=0) as f:
    for start in range(0, size, chunk):
        n = min(chunk, size - start)
        conn.putrequest("PATCH", loc)
        for k, v in {**headers, "Content-Type": "application/octet-stream", "Content-Length": str(n),
                     "Content-Range": f"{start}-{start + n - 1}"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        left = n
        while left:
            got = f.readinto(buf[:min(left, len(buf))])
            if not got:
                sys.exit(f"{path} ended early")
            conn.sock.sendall(buf[:got])
            left -= got
        loc = location(conn.getresponse())
sep = "&" if "?" in loc else "?"
conn.request("PUT", f"{loc}{sep}digest={digest}", headers=headers)
location(conn.getresponse())
