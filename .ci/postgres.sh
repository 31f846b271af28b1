#!/usr/bin/env bash
# Starts a local PostgreSQL for the bank ledger tests (packages/leg-bank) and prints one line,
#   export DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:PORT/DB
# on stdout (everything else goes to stderr), so a caller can run
#   eval "$(bash .ci/postgres.sh)"
# Idempotent: installs Debian's `postgresql` only if no server is installed, creates a cluster only
# if there is none, starts it only if it is down, and creates the role and database only if missing.
# Needs root (CI runs as root); otherwise it uses `sudo -n`.
#
# The role and password are for a throwaway test database reachable on 127.0.0.1 only.
# Override with TANDEM_PG_USER, TANDEM_PG_PASSWORD, TANDEM_PG_DB.
set -euo pipefail

readonly PG_USER="${TANDEM_PG_USER:-tandem}"
readonly PG_PASSWORD="${TANDEM_PG_PASSWORD:-tandem}"
readonly PG_DB="${TANDEM_PG_DB:-tandem}"
readonly READY_WAIT_S=30

log() { echo "postgres.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Identifiers and the password end up inside SQL literals: allow only plain characters.
for value in "$PG_USER" "$PG_PASSWORD" "$PG_DB"; do
  if ! [[ "$value" =~ ^[A-Za-z0-9_]+$ ]]; then
    log "user, password and database may contain only letters, digits and _ (got '$value')"
    exit 2
  fi
done

# Highest installed server version (a directory /usr/lib/postgresql/<version>/bin/postgres), or empty.
installed_version() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V); do
    basename "$(dirname "$(dirname "$dir")")"
  done | tail -n 1
}

version="$(installed_version)"
if [ -z "$version" ] || ! command -v pg_ctlcluster >/dev/null; then
  log "installing Debian's postgresql"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  version="$(installed_version)"
  if [ -z "$version" ]; then
    log "postgresql installed, but no server binary found under /usr/lib/postgresql"
    exit 1
  fi
fi

# Columns of `pg_lsclusters -h`: version cluster port status owner data-directory log-file.
cluster_line() { pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main"' | head -n 1; }

if [ -z "$(cluster_line)" ]; then
  log "creating cluster $version/main"
  as_root pg_createcluster "$version" main >&2
fi

port="$(cluster_line | awk '{print $3}')"
status="$(cluster_line | awk '{print $4}')"
if [ "$status" != "online" ]; then
  # Loopback only: this server exists for tests. Passed at start, so no config file is edited.
  log "starting cluster $version/main on 127.0.0.1:$port"
  as_root pg_ctlcluster -o "-c listen_addresses=127.0.0.1" "$version" main start >&2
fi

for ((i = 0; i < READY_WAIT_S; i++)); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
  sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  log "the server on 127.0.0.1:$port is not ready after ${READY_WAIT_S} s"
  exit 1
fi

psql_admin() {
  as_root runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qAt "$@"
}

# The password is set on every run, so the printed URL always works.
psql_admin -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN;
  END IF;
END
\$\$;
ALTER ROLE $PG_USER WITH LOGIN PASSWORD '$PG_PASSWORD';
SQL

if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
  log "creating database $PG_DB"
  psql_admin -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
fi

echo "export DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
