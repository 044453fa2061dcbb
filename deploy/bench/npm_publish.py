#!/usr/bin/env python3
"""Publishes npm packages over HTTP the way npm 11 does, for deploy/bench/npm.sh.

  npm_publish.py REGISTRY TOKEN versions NAME COUNT     COUNT versions 1.0.0 … of NAME (one PUT each)
  npm_publish.py REGISTRY TOKEN tree SCOPE COUNT        SCOPE/p0 … p(COUNT-1), pI depending on p(2I+1), p(2I+2)
  npm_publish.py REGISTRY TOKEN big NAME MEGABYTES      one version with an incompressible tarball of that size
  npm_publish.py REGISTRY TOKEN latency NAME COUNT      COUNT more versions, printing each PUT's time (ms)

`--public` (first argument) publishes with `--access public`.
"""
import base64, gzip, hashlib, io, json, os, sys, tarfile, time, urllib.request

args = sys.argv[1:]
public = False
if args and args[0] == "--public":
    public, args = True, args[1:]
registry, token, mode, name, count = args[0].rstrip("/"), args[1], args[2], args[3], int(args[4])


def tarball(manifest, extra=b""):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        files = [("package/package.json", json.dumps(manifest, indent=2).encode()),
                 ("package/index.js", b"module.exports = 42;\n")]
        if extra:
            files.append(("package/blob.bin", extra))
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 499162500, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def publish(pkg, version, deps=None, extra=b""):
    manifest = {"name": pkg, "version": version, "description": f"{pkg} benchmark package",
                "main": "index.js", "license": "MIT", "keywords": ["bench"],
                "dependencies": deps if deps is not None else {"left-pad": "^1.3.0"},
                "engines": {"node": ">=18"}, "repository": {"type": "git", "url": "https://example.com/x.git"}}
    tgz = tarball(manifest, extra)
    obj = dict(manifest, readme="ERROR: No README data found!", _id=f"{pkg}@{version}",
               _nodeVersion="20.20.2", _npmVersion="11.19.1",
               dist={"integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
                     "shasum": hashlib.sha1(tgz).hexdigest(),
                     "tarball": f"{registry}/{pkg}/-/{pkg}-{version}.tgz"})
    body = json.dumps({"_id": pkg, "name": pkg, "description": manifest["description"],
                       "dist-tags": {"latest": version}, "versions": {version: obj},
                       "access": "public" if public else None,
                       "_attachments": {f"{pkg}-{version}.tgz": {
                           "content_type": "application/octet-stream",
                           "data": base64.b64encode(tgz).decode(), "length": len(tgz)}}}).encode()
    escaped = pkg.replace("/", "%2f")
    request = urllib.request.Request(f"{registry}/{escaped}", data=body, method="PUT", headers={
        "content-type": "application/json", "authorization": f"Bearer {token}",
        "npm-command": "publish", "user-agent": "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


if mode == "versions":
    for i in range(count):
        publish(name, f"1.{i // 100}.{i % 100}")
elif mode == "latency":
    times = sorted(publish(name, f"9.0.{i}") for i in range(count))
    print(json.dumps({"median_ms": round(times[len(times) // 2], 2), "p90_ms": round(times[int(len(times) * 0.9)], 2)}))
elif mode == "tree":
    for i in reversed(range(count)):
        deps = {f"{name}/p{j}": "^1.0.0" for j in (2 * i + 1, 2 * i + 2) if j < count}
        publish(f"{name}/p{i}", "1.0.0", deps)
elif mode == "big":
    publish(name, "1.0.0", {}, os.urandom(count * 1024 * 1024))
else:
    sys.exit(f"unknown mode {mode}")
