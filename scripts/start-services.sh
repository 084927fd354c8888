#!/usr/bin/env bash
# Sets up what the test suite needs beside Python, on a Debian machine (installing needs root):
# - PostgreSQL on 127.0.0.1:5432 with a database `test` that the role `postgres` reaches over
#   TCP without a password (postgresql://postgres@127.0.0.1:5432/test, the tests' default URL;
#   HYPERMAX_TEST_POSTGRES_URL names another): a stock Debian server asks for a password over
#   TCP, so a `trust` line for that database, role and address goes first in pg_hba.conf;
# - Node.js, for the Node example (examples/node).
# Anything it cannot do stops it with a message and a non-zero exit.
set -euo pipefail

URL="postgresql://postgres@127.0.0.1:5432/test"

fail() {
  echo "start-services: $*" >&2
  exit 1
}

install_packages() {
  [ "$(id -u)" = "0" ] || fail "$1 is missing and this is not root: install the Debian" \
    "package(s) ${*:2} (or run this script as root)"
  echo "start-services: installing ${*:2} from Debian's packages" >&2
  apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null \
    || fail "could not install ${*:2}"
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then
    su postgres -c "$1"
  else
    sudo -n -u postgres sh -c "$1"
  fi
}

# --- PostgreSQL -------------------------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    install_packages PostgreSQL postgresql
  fi
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || fail "no PostgreSQL cluster under /etc/postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -q -h 127.0.0.1 -p 5432 \
    || fail "PostgreSQL $version did not start on 127.0.0.1:5432 (see /var/log/postgresql)"
fi

if ! psql "$URL" -tAc 'select 1' >/dev/null 2>&1; then
  # the test database, then password-less TCP logins for it from this machine only
  as_postgres "psql -tAc \"select 1 from pg_database where datname = 'test'\"" | grep -q 1 \
    || as_postgres "createdb test" || fail "could not create the database test"
  hba=$(as_postgres "psql -tAc 'show hba_file'") || fail "cannot ask PostgreSQL for pg_hba.conf"
  line="host test postgres 127.0.0.1/32 trust"
  if ! grep -qxF "$line" "$hba"; then
    # first: PostgreSQL uses the first line that matches, and Debian's asks for a password
    sed -i "1i # hypermax tests (scripts/start-services.sh)\n$line" "$hba" \
      || fail "cannot write $hba"
  fi
  as_postgres "psql -tAc 'select pg_reload_conf()'" >/dev/null || fail "cannot reload PostgreSQL"
  psql "$URL" -tAc 'select 1' >/dev/null \
    || fail "still cannot log in as $URL after allowing it in $hba"
fi

# --- Node.js, for examples/node ---------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  install_packages Node.js nodejs
  command -v node >/dev/null 2>&1 || fail "the nodejs package installed no 'node' command"
fi
