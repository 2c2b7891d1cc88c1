#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A real MeshCentral server and a real mesh agent on loopback (see TESTBED.md).
#
#   testbed.sh install            install meshcentral@1.1.55 into the cache
#   testbed.sh start DIR [PID]    bring a testbed up in DIR, write DIR/testbed.env;
#                                 with PID, stop it by itself when process PID ends
#   testbed.sh stop DIR           stop everything started in DIR
#   testbed.sh agent-stop DIR     stop the agent only
#   testbed.sh agent-start DIR    start the agent again and wait until it is online
#   testbed.sh agent-kill DIR     kill the agent (SIGKILL) and wait until it is offline
#   testbed.sh server-restart DIR restart the server (agent reconnects by itself)
#   testbed.sh server-stop DIR    freeze the server (SIGSTOP to its process group)
#   testbed.sh server-cont DIR    let a frozen server run again (SIGCONT)
#   testbed.sh meshctrl DIR ARGS  run meshctrl.js against the testbed as admin
#
# DIR/testbed.env holds shell assignments that tests read:
#   MCR_TEST_URL MCR_TEST_HOST MCR_TEST_PORT MCR_TEST_USER MCR_TEST_PASS
#   MCR_TEST_MESHID MCR_TEST_NODEID MCR_TEST_NODENAME MCR_TEST_CERTHASH ...
# With MCR_TESTBED_AGENTS=N (default 1), start adds N-1 more agents in the same
# group (DIR/agent2…), listed as MCR_TEST_EXTRA_NODEIDS (space-separated); stop
# stops them too, the agent-* commands touch the first agent only.
set -euo pipefail

MC_VERSION=1.1.55
CACHE=${MCR_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcrouter-testbed}
MC=$CACHE/node_modules/meshcentral
HOSTNAME_CERT=router.test

log () { echo "testbed: $*" >&2; }

install_mc () {
  if [ -f "$MC/package.json" ] && grep -q "\"version\": \"$MC_VERSION\"" "$MC/package.json"; then
    return 0
  fi
  mkdir -p "$CACHE"
  log "installing meshcentral@$MC_VERSION into $CACHE"
  npm install --no-audit --no-fund --prefix "$CACHE" "meshcentral@$MC_VERSION" >"$CACHE/npm.log" 2>&1 \
    || { cat "$CACHE/npm.log" >&2; exit 1; }
}

free_port () {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for () { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then log "timed out waiting for $what"; return 1; fi
    sleep 0.3
  done
}

meshctrl () { # meshctrl DIR ARGS...
  local dir=$1; shift
  # shellcheck disable=SC1091
  . "$dir/testbed.env"
  node "$MC/meshctrl.js" --url "wss://127.0.0.1:$MCR_TEST_PORT" \
       --loginuser "$MCR_TEST_USER" --loginpass "$MCR_TEST_PASS" "$@"
}

start_server () { # start_server DIR
  local dir=$1 port
  port=$(sed -n 's/^MCR_TEST_PORT=//p' "$dir/testbed.env")
  : >"$dir/server.log"
  (cd "$dir" && exec setsid node "$MC" --datapath "$dir/meshcentral-data" >>"$dir/server.log" 2>&1) &
  echo $! >"$dir/server.pid"
  wait_for 120 "the server to start" grep -q "HTTPS server running on .*:$port\\." "$dir/server.log" \
    || { cat "$dir/server.log" >&2; return 1; }
}

agent_online () { # agent_online DIR
  meshctrl "$1" ListDevices --json 2>/dev/null | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      const l=JSON.parse(s); process.exit(l.some(n=>n._id===process.argv[1]&&n.conn&1)?0:1)})' \
    "$(sed -n 's/^MCR_TEST_NODEID=//p' "$1/testbed.env" | tr -d "'")"
}

agent_offline () { ! agent_online "$1"; }

start_agent () { # start_agent DIR [NAME]
  local dir=$1 name=${2:-agent}
  (cd "$dir/$name" && exec setsid ./meshagent connect >"$dir/$name.log" 2>&1) &
  echo $! >"$dir/$name.pid"
}

# More agents in the group, each in its own folder with its own identity.
start_extra_agents () { # start_extra_agents DIR PRIMARY_NODEID
  local dir=$1 primary=$2 n=${MCR_TESTBED_AGENTS:-1} i ids="" end
  [ "$n" -gt 1 ] || return 0
  for i in $(seq 2 "$n"); do
    rm -rf "$dir/agent$i"
    mkdir -p "$dir/agent$i"
    cp "$dir/agent/meshagent" "$dir/agent/meshagent.msh" "$dir/agent$i/"
    start_agent "$dir" "agent$i"
  done
  end=$((SECONDS + 60))
  while :; do
    ids=$(meshctrl "$dir" ListDevices --json 2>/dev/null | node -e '
      let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{
        console.log(JSON.parse(s).filter(n=>(n.conn&1)&&n._id!==process.argv[1]).map(n=>n._id).join(" "))}catch(e){}})' \
      "$primary")
    [ "$(wc -w <<<"$ids")" -lt $((n - 1)) ] || break
    [ $SECONDS -lt $end ] || { log "only $(wc -w <<<"$ids") of $((n - 1)) extra agents came online"; return 1; }
    sleep 0.5
  done
  echo "MCR_TEST_EXTRA_NODEIDS='$ids'" >>"$dir/testbed.env"
  log "$((n - 1)) more agents online"
}

signal_pidfile () { # signal_pidfile SIGNAL FILE: to the process group it names
  local pid
  pid=$(cat "$2")
  kill "-$1" -- "-$pid" 2>/dev/null || kill "-$1" "$pid"
}

stop_pidfile () { # stop_pidfile FILE
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    # A frozen process (server-stop) only acts on TERM once it runs again.
    kill -CONT -- "-$pid" 2>/dev/null || kill -CONT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

cmd_start () {
  local dir=$1
  install_mc
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local port pass data
  port=$(free_port)
  pass="Pw-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
  data=$dir/meshcentral-data
  rm -rf "$data" "$dir/agent"
  mkdir -p "$data"
  # Certificates take ~20 s to make: reuse the ones of an earlier run.
  if [ -d "$CACHE/certs" ]; then cp "$CACHE/certs/"* "$data/"; fi
  cat >"$data/config.json" <<JSON
{ "settings": { "cert": "$HOSTNAME_CERT", "port": $port, "portBind": "127.0.0.1",
                "redirPort": 0, "mpsPort": 0, "exactPorts": true, "selfUpdate": false,
                "agentPong": 60, "browserPing": 30 },
  "domains": { "": { "title": "test", "newAccounts": false, "allowLoginToken": true } } }
JSON
  node "$MC" --datapath "$data" --createaccount admin --pass "$pass" --email a@example.com >"$dir/setup.log" 2>&1
  node "$MC" --datapath "$data" --adminaccount admin >>"$dir/setup.log" 2>&1
  cat >"$dir/testbed.env" <<ENV
MCR_TEST_DIR='$dir'
MCR_TEST_HOST='127.0.0.1'
MCR_TEST_PORT=$port
MCR_TEST_URL='wss://127.0.0.1:$port'
MCR_TEST_USER='admin'
MCR_TEST_PASS='$pass'
MCR_TEST_MESHCTRL='$MC/meshctrl.js'
ENV
  log "starting the server on 127.0.0.1:$port"
  start_server "$dir"
  if [ ! -d "$CACHE/certs" ]; then
    mkdir -p "$CACHE/certs.tmp" && cp "$data/"*.crt "$data/"*.key "$CACHE/certs.tmp/" \
      && mv "$CACHE/certs.tmp" "$CACHE/certs" || rm -rf "$CACHE/certs.tmp"
  fi
  local certhash
  certhash=$(node -e '
    const c=require("crypto"),fs=require("fs");
    const x=new c.X509Certificate(fs.readFileSync(process.argv[1]));
    console.log(c.createHash("sha384").update(x.raw).digest("hex").toUpperCase())' \
    "$data/webserver-cert-public.crt")
  local meshid
  meshid=$(meshctrl "$dir" AddDeviceGroup --name lab | sed -n 's/^ok //p')
  [ -n "$meshid" ] || { log "could not create the device group"; return 1; }
  mkdir -p "$dir/agent"
  cp "$MC/agents/meshagent_x86-64" "$dir/agent/meshagent"
  chmod +x "$dir/agent/meshagent"
  node -e '
    process.env.NODE_TLS_REJECT_UNAUTHORIZED="0";
    require("https").get(process.argv[1],{rejectUnauthorized:false},r=>{let s="";r.on("data",d=>s+=d).on("end",()=>process.stdout.write(s))})' \
    "https://127.0.0.1:$port/meshsettings?id=${meshid#mesh//}" 2>/dev/null \
    | sed "s#^MeshServer=.*#MeshServer=wss://127.0.0.1:$port/agent.ashx#" >"$dir/agent/meshagent.msh"
  grep -q '^MeshID=' "$dir/agent/meshagent.msh" || { log "bad meshagent.msh"; return 1; }
  start_agent "$dir"
  local nodeid="" end=$((SECONDS + 60))
  while [ -z "$nodeid" ]; do
    [ $SECONDS -lt $end ] || { log "the agent did not come online"; cat "$dir/agent.log" >&2; return 1; }
    sleep 0.5
    nodeid=$(meshctrl "$dir" ListDevices --json 2>/dev/null | node -e '
      let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{
        const n=JSON.parse(s).find(n=>n.conn&1); if(n)console.log(n._id+"\t"+n.name)}catch(e){}})')
  done
  cat >>"$dir/testbed.env" <<ENV
MCR_TEST_CERTHASH='$certhash'
MCR_TEST_MESHID='$meshid'
MCR_TEST_NODEID='${nodeid%%$'\t'*}'
MCR_TEST_NODENAME='${nodeid#*$'\t'}'
ENV
  start_extra_agents "$dir" "${nodeid%%$'\t'*}"
  log "ready: node ${nodeid%%$'\t'*} (${nodeid#*$'\t'}) online"
}

cmd_stop () {
  local dir=$1 f
  for f in "$dir"/agent[0-9]*.pid; do
    if [ -e "$f" ]; then stop_pidfile "$f"; fi
  done
  stop_pidfile "$dir/agent.pid"
  stop_pidfile "$dir/server.pid"
}

case "${1:-}" in
  install) install_mc ;;
  start) [ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 start DIR [OWNER_PID]" >&2; exit 2; }
         # The trap may run inside a function (set -e), where "$2" is that
         # function's: the folder is kept in a name of its own.
         start_dir=$2 ok=0; trap '[ $ok = 1 ] || cmd_stop "$start_dir"' EXIT
         cmd_start "$start_dir"; ok=1
         if [ -n "${3:-}" ]; then
           # A watchdog: even a test program killed with SIGKILL leaves nothing behind.
           dir=$(cd "$2" && pwd)
           (setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -f "$2/server.pid" ]; do sleep 1; done
                            exec "$3" stop "$2"' watchdog "$3" "$dir" "$(readlink -f "$0")" \
              </dev/null >/dev/null 2>&1 &)
         fi ;;
  stop) cmd_stop "$2" ;;
  agent-stop) stop_pidfile "$2/agent.pid"; wait_for 30 "the agent to go offline" agent_offline "$2" ;;
  agent-start) start_agent "$2"; wait_for 60 "the agent to come online" agent_online "$2" ;;
  agent-kill) signal_pidfile KILL "$2/agent.pid"; rm -f "$2/agent.pid"
              wait_for 30 "the agent to go offline" agent_offline "$2" ;;
  server-restart) stop_pidfile "$2/server.pid"; start_server "$2" ;;
  server-stop) signal_pidfile STOP "$2/server.pid" ;;
  server-cont) signal_pidfile CONT "$2/server.pid" ;;
  meshctrl) d=$2; shift 2; meshctrl "$d" "$@" ;;
  *) sed -n '4,23p' "$0" >&2; exit 2 ;;
esac
