# Sourced, not run: starts a private PostgreSQL server for the shop's Postgres tests and
# exports the URL of a role that may create databases. scripts/test uses it:
#
#   source scripts/postgres.sh; start_test_postgres; ...; stop_test_postgres
#
# The server lives in a fresh temporary directory, listens on 127.0.0.1 only (and on a
# Unix socket in that directory), trusts local connections (nothing else can reach it)
# and is stopped and removed by stop_test_postgres. It needs the server binaries (Debian's
# `postgresql` package, which scripts/test installs when find_postgres_bin finds none).
# PostgreSQL refuses to run as root, so under root the server runs as the package's
# `postgres` user.

TEST_POSTGRES_DIR=""
TEST_POSTGRES_BIN=""

# The directory holding initdb and pg_ctl: PATH first, then Debian's versioned directories
# (newest first). Empty if none.
find_postgres_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
}

# Runs a command as the server's owner: this user, or `postgres` under root.
as_postgres_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A loopback port nothing listens on, from 55432 up.
free_loopback_port() {
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free loopback port in 55432-55532" >&2
  return 1
}

# Starts the server and exports SHOP_TEST_POSTGRES_URL (a superuser role `shop`).
start_test_postgres() {
  TEST_POSTGRES_BIN="$(find_postgres_bin)"
  if [ -z "$TEST_POSTGRES_BIN" ]; then
    echo "no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql" >&2
    return 1
  fi
  local port
  port="$(free_loopback_port)"
  TEST_POSTGRES_DIR="$(mktemp -d /tmp/shop-test-postgres.XXXXXX)"
  chmod 700 "$TEST_POSTGRES_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$TEST_POSTGRES_DIR"; fi
  as_postgres_owner "$TEST_POSTGRES_BIN/initdb" -D "$TEST_POSTGRES_DIR/data" -U shop \
    --auth=trust --encoding=UTF8 --no-locale >"$TEST_POSTGRES_DIR/initdb.log" 2>&1 || {
    cat "$TEST_POSTGRES_DIR/initdb.log" >&2
    return 1
  }
  # fsync off: a test server's data is thrown away, and fsync makes CREATE DATABASE slow.
  as_postgres_owner "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -w -t 60 \
    -l "$TEST_POSTGRES_DIR/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $TEST_POSTGRES_DIR -c fsync=off" \
    start >/dev/null || {
    cat "$TEST_POSTGRES_DIR/server.log" >&2
    return 1
  }
  export SHOP_TEST_POSTGRES_URL="postgres://shop@127.0.0.1:$port/postgres"
  echo "postgres for the shop's tests: $SHOP_TEST_POSTGRES_URL"
}

# Stops the server started by start_test_postgres and removes its directory.
stop_test_postgres() {
  if [ -n "$TEST_POSTGRES_DIR" ] && [ -d "$TEST_POSTGRES_DIR/data" ]; then
    as_postgres_owner "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m fast \
      -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$TEST_POSTGRES_DIR" ]; then rm -rf "$TEST_POSTGRES_DIR"; fi
  TEST_POSTGRES_DIR=""
}
