# A throwaway PostgreSQL cluster for the tests: `source` this file, then
# `pg_start` (exports OTPKIT_TEST_POSTGRES and OTPKIT_TEST_POSTGRES_DATA) and `pg_stop`. The cluster lives
# in a temp directory, listens on a free loopback port only, runs as an
# unprivileged user (`postgres` when we are root: PostgreSQL refuses root),
# trusts local connections, and is deleted by pg_stop. fsync is off (the
# tests kill server processes, never the machine) unless PG_SETTINGS gives
# other server settings (PG_SETTINGS= for PostgreSQL's defaults, as the
# load bench uses).

pg_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$PG_BIN" ]; then
    echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
    return 1
  fi
  PG_DIR=$(mktemp -d /tmp/otpkit-pg.XXXXXX)
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U otpkit --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=400 ${PG_SETTINGS--c fsync=off}" \
    start >/dev/null
  export OTPKIT_TEST_POSTGRES="postgres://otpkit@127.0.0.1:$PG_PORT/postgres"
  # Its files, for the tests that search them for a code left readable.
  export OTPKIT_TEST_POSTGRES_DATA="$PG_DIR/data"
  echo "throwaway PostgreSQL at $OTPKIT_TEST_POSTGRES"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
