#!/usr/bin/env bash
# Print a PostgreSQL URL for the tests: the machine's server on 127.0.0.1:5432 when it answers,
# otherwise a private server installed from Debian's packages and started on loopback.
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }

answers() { python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.settimeout(2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

if answers 5432; then
  echo "postgresql+psycopg://postgres@127.0.0.1:5432/test"
  exit 0
fi

PORT=55432
DATA=${SAPBRIDGE_PG_DATA:-/tmp/sapbridge-pg}
if answers "$PORT"; then
  echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/test"
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home "$DATA" postgres
  RUNAS=(su postgres -s /bin/sh -c)
fi
run() { if [ ${#RUNAS[@]} -gt 0 ]; then "${RUNAS[@]}" "$*"; else sh -c "$*"; fi; }
if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run "$BIN/initdb -D $DATA -A trust -U postgres" >&2
fi
run "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1' start" >&2
run "$BIN/createdb -h 127.0.0.1 -p $PORT -U postgres test" >&2 || true
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/test"
