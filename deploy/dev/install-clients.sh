#!/usr/bin/env bash
# Installs, idempotently, the real package-manager clients the end-to-end tests in tests/ drive, and with
# WITH_BENCH=1 the reference servers and load tools the benchmarks compare against (see docs/benchmarks.md).
#
#   container: skopeo, podman (Debian)
#   npm:       npm (comes with node; tmux drives its interactive login), yarn 1.22.22 and pnpm 10.34.8 (npm registry; later majors need node 22)
#   REST API:  @octokit/rest 21.1.1 (ESM, node >= 18) in $ENTREPOT_CLIENTS/octokit, for tests/packages_api.rs
#   maven:     Maven 3.8 + Debian's plugin jars in /usr/share/maven-repo (builds run offline from Central)
#   gradle:    Gradle 4.4.1 (Debian) with the one-line classpath fix that lets maven-publish upload over http
#   bench:     docker-registry (distribution 2.8), nginx, wrk, ab, hyperfine, Verdaccio 6.8.0
#
# Usage: bash deploy/dev/install-clients.sh     (ENTREPOT_CLIENTS=DIR, default ~/.cache/entrepot/clients)
# Wrappers land in $ENTREPOT_CLIENTS/bin; the test harness looks there after PATH. A second run only checks.
set -euo pipefail

PREFIX=${ENTREPOT_CLIENTS:-$HOME/.cache/entrepot/clients}
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600 -q)
NPM_FLAGS=(--no-fund --no-audit --loglevel=error --no-update-notifier)
mkdir -p "$PREFIX/bin"
say() { printf '=== %s\n' "$*"; }
need() { command -v "$1" >/dev/null || { echo "install-clients: $1 is required but missing" >&2; exit 1; }; }

# ------------------------------------------------------------------------------------------ Debian packages
PKGS=(
  skopeo podman tmux
  maven libmaven-deploy-plugin-java libmaven-install-plugin-java libmaven-jar-plugin-java
  libmaven-compiler-plugin-java libmaven-resources-plugin-java libsurefire-java libmaven-dependency-plugin-java
  gradle
)
[ "${WITH_BENCH:-0}" = 1 ] && PKGS+=(docker-registry nginx-light wrk apache2-utils hyperfine)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] && SUDO=() || SUDO=(sudo)
  say "apt-get install ${missing[*]}"
  "${SUDO[@]}" "${APT[@]}" update
  "${SUDO[@]}" "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
fi

# ------------------------------------------------------------------------------------------ npm-side tools
need node
need npm
T="$PREFIX/npm-tools"
if [ ! -x "$T/bin/yarn" ] || [ ! -x "$T/bin/pnpm" ]; then
  say "npm install -g --prefix $T yarn@1.22.22 pnpm@10.34.8"
  npm install -g --prefix "$T" yarn@1.22.22 pnpm@10.34.8 "${NPM_FLAGS[@]}"
fi
ln -sf "$T/bin/yarn" "$PREFIX/bin/yarn"
ln -sf "$T/bin/pnpm" "$PREFIX/bin/pnpm"

# octokit is a library, not a command: the e2e test runs its node script with NODE_PATH-free ESM imports from
# this directory (the script is written into it), so the module resolves from its node_modules.
O="$PREFIX/octokit"
if [ ! -f "$O/node_modules/@octokit/rest/package.json" ] || \
   ! grep -q '"version": "21.1.1"' "$O/node_modules/@octokit/rest/package.json"; then
  say "npm install @octokit/rest@21.1.1 into $O"
  mkdir -p "$O"
  cat > "$O/package.json" <<'JSON'
{ "name": "entrepot-octokit", "private": true, "type": "module", "dependencies": { "@octokit/rest": "21.1.1" } }
JSON
  (cd "$O" && npm install "${NPM_FLAGS[@]}")
fi

if [ "${WITH_BENCH:-0}" = 1 ]; then
  # Verdaccio 6.9+ needs node 22. Its audit middleware asks for node-fetch@"cjs", a dist-tag this registry
  # mirror lacks: the override pins it.
  V="$PREFIX/verdaccio"
  if [ ! -x "$V/node_modules/.bin/verdaccio" ]; then
    say "npm install verdaccio@6.8.0 into $V"
    mkdir -p "$V"
    cat > "$V/package.json" <<'JSON'
{ "name": "verdaccio-reference", "private": true,
  "dependencies": { "verdaccio": "6.8.0" }, "overrides": { "node-fetch": "2.7.0" } }
JSON
    (cd "$V" && npm install "${NPM_FLAGS[@]}")
  fi
  ln -sf "$V/node_modules/.bin/verdaccio" "$PREFIX/bin/verdaccio"
fi

# ------------------------------------------------------------------------------------------ Gradle 4.4.1 fix
# Debian's gradle-maven-4.4.1.jar lists its runtime jars in gradle-maven-classpath.properties and forgets
# maven-resolver-transport-wagon.jar, so every maven-publish to an http repository fails with "No transporter
# factories registered". Adding the name fixes it; the original is kept beside our other client files.
GJ=/usr/share/java/gradle-maven-4.4.1.jar
if [ -f "$GJ" ]; then
  need python3
  mkdir -p "$PREFIX/gradle"
  python3 - "$GJ" "$PREFIX/gradle/gradle-maven-4.4.1.jar.orig" <<'PY'
import os, shutil, sys, zipfile
jar, backup = sys.argv[1], sys.argv[2]
name = "gradle-maven-classpath.properties"
with zipfile.ZipFile(jar) as z:
    props = z.read(name).decode()
if "maven-resolver-transport-wagon.jar" in props:
    sys.exit(0)
if not os.path.exists(backup):
    shutil.copy2(jar, backup)
fixed = props.replace("maven-resolver-spi.jar,", "maven-resolver-spi.jar,maven-resolver-transport-wagon.jar,", 1)
assert fixed != props, "unexpected gradle-maven-classpath.properties"
tmp = jar + ".tmp"
with zipfile.ZipFile(jar) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        dst.writestr(item, fixed.encode() if item.filename == name else src.read(item.filename))
os.replace(tmp, jar)
print("patched", jar)
PY
fi

# ------------------------------------------------------------------------------------------ versions
say "clients"
printf '  %-10s %s\n' \
  node "$(node --version)" npm "$(npm --version)" yarn "$("$PREFIX/bin/yarn" --version)" \
  pnpm "$("$PREFIX/bin/pnpm" --version)" \
  octokit "$(node -p "require('$O/node_modules/@octokit/rest/package.json').version")" skopeo "$(skopeo --version | awk '{print $3}')" \
  podman "$(podman --version | awk '{print $3}')" \
  mvn "$(mvn --version 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g' | awk '{print $3}')" \
  gradle "$(gradle --version 2>/dev/null | awk '/^Gradle/{print $2}')"
