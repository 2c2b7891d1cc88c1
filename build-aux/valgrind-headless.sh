#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The headless router under valgrind memcheck, against the real testbed:
# login, a port map and a relay map to an echo service on the agent's side,
# connections that echo byte-exact, one that is dropped half-way, then
# SIGTERM. Fails on any memcheck error or a definite leak.
#
#   build-aux/valgrind-headless.sh [CONNECTIONS [MIB]]   (default 8 × 2 MiB)
#
# Uses $MCR_TESTBED_ENV when set, otherwise starts (and stops) a testbed of
# its own. Builds a plain debug build (no sanitizers) in _build-valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MCR_VALGRIND_BUILDDIR:-$root/_build-valgrind}
conns=${1:-8}
mib=${2:-2}
work=$(mktemp -d /tmp/mcr-valgrind-XXXXXX)

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dbuildtype=debug -Dtests=false >/dev/null
fi
ninja -C "$build" src/meshcentral-router >/dev/null

pids=()
own_testbed=0
cleanup () {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ $own_testbed = 1 ] && bash "$root/build-aux/testbed.sh" stop "$work/testbed" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${MCR_TESTBED_ENV:-}" ]; then
  own_testbed=1
  bash build-aux/testbed.sh start "$work/testbed" $$ >/dev/null
  MCR_TESTBED_ENV=$work/testbed/testbed.env
fi
# shellcheck disable=SC1090
. "$MCR_TESTBED_ENV"

# An echo service on the agent's side, and the client that checks it.
cat >"$work/echo.py" <<'EOF'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0)); s.listen(64); print(s.getsockname()[1], flush=True)
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d: return
            c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
cat >"$work/client.py" <<'EOF'
import hashlib, os, socket, sys, threading, time
port, conns, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
bad = []
def one(i, drop):
    data = os.urandom(size)
    c = socket.create_connection(("127.0.0.1", port), timeout=120)
    threading.Thread(target=c.sendall, args=(data if not drop else data[: size // 2],), daemon=True).start()
    got = bytearray()
    want = size if not drop else size // 4
    while len(got) < want:
        d = c.recv(65536)
        if not d: break
        got += d
    c.close()
    if not drop and hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        bad.append("connection %d: %d of %d bytes came back, or different" % (i, len(got), size))
ts = [threading.Thread(target=one, args=(i, i == conns)) for i in range(conns + 1)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(bad) if bad else "echo: %d connections x %d bytes byte-exact, 1 dropped half-way" % (conns, size))
sys.exit(1 if bad else 0)
EOF

python3 "$work/echo.py" 127.0.0.1 >"$work/echo1.port" & pids+=($!)
python3 "$work/echo.py" 127.0.0.2 >"$work/echo2.port" & pids+=($!)
for f in echo1 echo2; do
  for _ in $(seq 50); do [ -s "$work/$f.port" ] && break; sleep 0.1; done
done
echo1=$(cat "$work/echo1.port") echo2=$(cat "$work/echo2.port")
free_port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
map_port=$(free_port) relay_port=$(free_port)

echo "valgrind: starting the headless router (memcheck; a minute or two)"
export G_SLICE=always-malloc G_DEBUG=gc-friendly MCROUTER_PASSWORD=$MCR_TEST_PASS
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --error-exitcode=99 --num-callers=30 --track-origins=yes \
  --suppressions=/usr/share/glib-2.0/valgrind/glib.supp --log-file="$work/valgrind.log" \
  "$build/src/meshcentral-router" --headless "-host:$MCR_TEST_HOST:$MCR_TEST_PORT" "-user:$MCR_TEST_USER" \
  "-certhash:$MCR_TEST_CERTHASH" "-map:TCP:$map_port:$MCR_TEST_NODENAME::$echo1" \
  "-relaymap:TCP:$relay_port:$MCR_TEST_NODEID:HTTP:127.0.0.2:$echo2" >"$work/router.log" 2>&1 &
router=$!
pids+=($router)
unset MCROUTER_PASSWORD

# Ready when both maps listen (valgrind makes start-up slow).
for _ in $(seq 600); do
  if (exec 3<>/dev/tcp/127.0.0.1/$map_port) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/$relay_port) 2>/dev/null; then
    break
  fi
  kill -0 $router 2>/dev/null || { cat "$work/router.log"; echo "valgrind: the router ended early"; exit 1; }
  sleep 0.2
done

status=0
python3 "$work/client.py" "$map_port" "$conns" $((mib * 1024 * 1024)) || status=1
python3 "$work/client.py" "$relay_port" 2 $((mib * 1024 * 1024)) || status=1
kill -TERM $router
rc=0
wait $router || rc=$?
sed -n '/ERROR SUMMARY/p;/definitely lost/p;/indirectly lost/p;/possibly lost/p' "$work/valgrind.log"
if [ $rc -ne 0 ]; then
  echo "valgrind: the router exited with status $rc (99: memcheck errors or definite leaks)"
  grep -v '^==[0-9]*== *$' "$work/valgrind.log" | tail -80
  status=1
fi
[ $status = 0 ] && echo "valgrind: clean"
exit $status
