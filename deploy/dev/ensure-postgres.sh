#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for user `postgres` with trust authentication, as the
# test suite expects (ENTREPOT_TEST_POSTGRES overrides the URL). Idempotent: does nothing when one already answers;
# otherwise installs Debian's postgresql if needed, allows trust on loopback and starts the cluster.
set -euo pipefail

url="${ENTREPOT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"

answers() {
  command -v psql >/dev/null 2>&1 && psql "$url" -qAtc 'select 1' >/dev/null 2>&1
}

if answers; then
  echo "postgres: $url answers"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "postgres: installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-client >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba="/etc/postgresql/$version/main/pg_hba.conf"
# Loopback only, for the test user; prepended so that it wins over the packaged md5/scram lines.
if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
  sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
fi
if pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
else
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

for _ in $(seq 1 30); do
  if answers; then
    echo "postgres: $url answers"
    exit 0
  fi
  sleep 1
done
echo "postgres: $url still does not answer" >&2
exit 1
