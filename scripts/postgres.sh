#!/usr/bin/env bash
# A throwaway PostgreSQL server for the SQL store's tests (issue 16), made from the binaries of
# Debian's `postgresql` package (or any PostgreSQL whose initdb is in PATH).
#
#   scripts/postgres.sh start [--owner PID]
#       Creates a cluster in a new temporary directory (`mktemp -d`, under $TMPDIR or /tmp),
#       starts it on a free port on 127.0.0.1 (the kernel picks it; no fixed port) with its
#       unix socket in that directory, waits until it accepts connections, and prints on stdout
#         EFFECT_TWITCH_PG_URL=postgres://postgres@127.0.0.1:<port>/postgres
#         EFFECT_TWITCH_PG_DIR=<the temporary directory>
#       (what it says on stderr is for people). The role `postgres` is a superuser and every
#       local connection is trusted (`initdb -A trust`): the server listens on 127.0.0.1 only.
#       With `--owner PID` the server is also stopped, and its directory removed, when the
#       process PID exits, however it exits (a test runner killed with Ctrl-C or SIGKILL).
#   scripts/postgres.sh stop <dir>
#       Stops the server started in <dir> (`pg_ctl stop -m fast`) and removes <dir>. Only a
#       directory `start` made is touched; a directory that is already gone is not an error.
#   scripts/postgres.sh bindir
#       Prints the directory of the binaries `start` would use, or fails saying how to get them.
#
# The binaries: those in $EFFECT_TWITCH_PG_BINDIR when it is set (only there), else the directory
# of the `initdb` found in PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian puts
# only wrappers in PATH). initdb and postgres
# refuse to run as root: as root they run as the user `postgres` (`runuser -u postgres`), which
# Debian's package creates, and the temporary directory is given to that user.
#
# The server is tuned for tests, not for keeping data: fsync, synchronous_commit and
# full_page_writes are off (a crash of the machine can lose or corrupt what it holds, which is
# thrown away anyway), max_connections is 300 (the fleet test's processes each hold a pool),
# and log_statement = ddl, so that its log (<dir>/postgres.log) shows the tests' CREATE DATABASE
# statements (.ci/run checks that the tests used it).
#
# Used by scripts/postgres-global-setup.ts (the SQL tests' vitest globalSetup, when
# EFFECT_TWITCH_PG_URL is not set) and by .ci/run.
set -euo pipefail

me="scripts/postgres.sh"
say() { echo "$me: $*" >&2; }
die() {
  say "$*"
  exit 1
}
# generous guards against hangs on a loaded machine: each wait ends as soon as what it waits for happens
start_guard=120
stop_guard=60
install_hint="install Debian's postgresql package: apt-get install postgresql (or point EFFECT_TWITCH_PG_URL at a running server)"

find_bindir() {
  local initdb dir
  if [ -n "${EFFECT_TWITCH_PG_BINDIR:-}" ]; then
    dir=$EFFECT_TWITCH_PG_BINDIR
    [ -x "$dir/initdb" ] || die "EFFECT_TWITCH_PG_BINDIR=$dir has no initdb: $install_hint"
  elif initdb=$(command -v initdb 2>/dev/null); then
    dir=$(dirname "$(readlink -f "$initdb")")
  else
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    die "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are neither in PATH nor in /usr/lib/postgresql/*/bin: $install_hint"
  fi
  local tool
  for tool in pg_ctl postgres; do
    [ -x "$dir/$tool" ] || die "$dir has initdb but no $tool: $install_hint"
  done
  echo "$dir"
}

# initdb and postgres refuse root: as root, run them as `postgres`
server_user() {
  if [ "$(id -u)" -ne 0 ]; then
    id -un
    return
  fi
  id -u postgres >/dev/null 2>&1 ||
    die "running as root, and initdb and postgres refuse root, but there is no user 'postgres' to run them as: $install_hint (it creates that user), or run as another user"
  command -v runuser >/dev/null || die "running as root, and runuser (util-linux) is missing: it runs initdb and postgres as 'postgres'"
  echo postgres
}
as_server_user() {
  # from /, which it can enter whatever the caller's directory (the paths it gets are absolute)
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# a port nobody listens on: the kernel's choice for port 0 (a race with another program taking
# it before postgres does is caught below: postgres fails to bind, and start tries another)
free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# the server's postmaster.pid, if it is running
server_running() {
  local bindir=$1 data=$2
  [ -f "$data/postmaster.pid" ] && as_server_user "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1
}

stop_server() {
  local bindir=$1 data=$2
  server_running "$bindir" "$data" || return 0
  if ! as_server_user "$bindir/pg_ctl" stop -D "$data" -m fast -w -t "$stop_guard" -s; then
    say "the fast shutdown did not end within $stop_guard s: stopping it with -m immediate"
    as_server_user "$bindir/pg_ctl" stop -D "$data" -m immediate -w -t "$stop_guard" -s || true
  fi
}

cmd_start() {
  local owner=""
  while [ $# -gt 0 ]; do
    case $1 in
      --owner)
        owner=${2:-}
        [[ $owner =~ ^[0-9]+$ ]] || die "--owner needs a process id"
        shift 2
        ;;
      *) die "start: unknown argument $1" ;;
    esac
  done
  command -v node >/dev/null || die "node is needed (to find a free port)"
  local user started=$SECONDS
  # global, as dir below: the EXIT trap uses them
  bindir=$(find_bindir)
  user=$(server_user)

  dir=$(mktemp -d "${TMPDIR:-/tmp}/effect-twitch-pg.XXXXXX")
  # from here on, a failure removes what start made
  trap 'status=$?; if [ $status -ne 0 ]; then stop_server "$bindir" "$dir/data"; rm -rf "$dir"; fi; exit $status' EXIT
  [[ $dir =~ ^[A-Za-z0-9/._-]+$ ]] || die "the temporary directory $dir has characters a URL or a shell line would mangle: set TMPDIR to a plain path"
  # the socket path (dir/.s.PGSQL.<port>) must fit a unix socket's 107 bytes
  [ "${#dir}" -le 80 ] || die "the temporary directory $dir is too long for a unix socket path: set TMPDIR to a shorter path"
  printf 'bindir=%s\nuser=%s\n' "$bindir" "$user" >"$dir/effect-twitch-pg"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  as_server_user test -w "$dir" || die "the user $user cannot write $dir: set TMPDIR to a directory it can reach"

  local log="$dir/postgres.log"
  (cd "$dir" && as_server_user "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1) || die "initdb failed:"$'\n'"$(tail -n 20 "$dir/initdb.log")"
  cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/postgres.sh: a throwaway cluster for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
# durability off: this cluster is deleted after the tests (never do this with data you keep)
fsync = off
synchronous_commit = off
full_page_writes = off
log_statement = 'ddl'
EOF

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    : >"$log"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$log"; fi
    # -w: pg_ctl returns once the postmaster says it is ready (or has died), at most start_guard s
    if (cd "$dir" && as_server_user "$bindir/pg_ctl" start -D "$dir/data" -l "$log" -o "-p $port" -w \
      -t "$start_guard" -s >/dev/null 2>>"$dir/pg_ctl.log"); then
      break
    fi
    if grep -q -e 'could not bind' -e 'Address already in use' "$log" && [ "$attempt" -lt 5 ]; then
      say "port $port was taken meanwhile: trying another"
      continue
    fi
    die "the server did not start:"$'\n'"$(tail -n 20 "$dir/pg_ctl.log" "$log")"
  done

  # and it answers on TCP, where the tests connect
  local isready="$bindir/pg_isready"
  [ -x "$isready" ] || isready=$(command -v pg_isready) || die "pg_isready is missing: $install_hint"
  local deadline=$((SECONDS + start_guard))
  until "$isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
    [ "$SECONDS" -lt "$deadline" ] || die "the server does not accept connections on 127.0.0.1:$port after $start_guard s:"$'\n'"$(tail -n 20 "$log")"
    sleep 0.1
  done

  if [ -n "$owner" ]; then
    # in a session of its own (Ctrl-C in the owner's terminal does not reach it), no fd held open
    local detach=()
    if command -v setsid >/dev/null; then detach=(setsid); fi
    "${detach[@]}" bash "$(readlink -f "$0")" _watch "$owner" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  trap - EXIT
  say "$("$bindir/postgres" --version) on 127.0.0.1:$port, as $user, in $dir (log: $log), ready in $((SECONDS - started)) s"
  echo "EFFECT_TWITCH_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "EFFECT_TWITCH_PG_DIR=$dir"
}

cmd_stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: $me stop <dir>"
  if [ ! -e "$dir" ]; then
    say "$dir does not exist: nothing to stop"
    return 0
  fi
  [ -f "$dir/effect-twitch-pg" ] || die "$dir was not made by $me start (it has no effect-twitch-pg file): not touching it"
  local bindir
  bindir=$(sed -n 's/^bindir=//p' "$dir/effect-twitch-pg")
  [ -x "$bindir/pg_ctl" ] || bindir=$(find_bindir)
  stop_server "$bindir" "$dir/data"
  rm -rf "$dir"
  say "stopped the server in $dir and removed it"
}

# start --owner: wait for the owner to exit, then stop the server if it still runs
cmd_watch() {
  local owner=$1 dir=$2
  # GNU tail returns when the process exits (it checks once a second)
  tail --pid="$owner" -f /dev/null || while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  [ -e "$dir" ] && cmd_stop "$dir"
}

case ${1:-} in
  start)
    shift
    cmd_start "$@"
    ;;
  stop)
    shift
    cmd_stop "$@"
    ;;
  bindir) find_bindir ;;
  _watch) cmd_watch "$2" "$3" ;;
  *) die "usage: $me start [--owner PID] | stop <dir> | bindir" ;;
esac
