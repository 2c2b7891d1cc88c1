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
#   testbed.sh offload-start DIR  a second server behind nginx with tlsOffload
#                                 (own admin, group and agent) in DIR/offload,
#                                 writing DIR/offload/testbed.env; stop stops it
#
# Besides the default domain, the server has a domain "other" with its own
# admin, group and agent (MCR_TEST_OTHER_*), and nginx on loopback passes TLS
# through to it (MCR_TEST_PASSTHROUGH_PORT, the stream module).
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
  port=$(sed -n 's/^MCR_TEST_SERVER_PORT=//p' "$dir/testbed.env")
  : >"$dir/server.log"
  (cd "$dir" && exec setsid node "$MC" --datapath "$dir/meshcentral-data" >>"$dir/server.log" 2>&1) &
  echo $! >"$dir/server.pid"
  # HTTPS, or HTTP behind a TLS offloader; "…:PORT." or "…:PORT, alias port N."
  wait_for 120 "the server to start" \
    grep -Eq "HTTPS? server running on .*$port(, alias port [0-9]+)?\\." "$dir/server.log" \
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

# The agent's settings for group MESHID (mesh/DOMAIN/ID) from BASE (the
# https URL the agents use, with the domain's path), aimed at BASE too.
fetch_msh () { # fetch_msh BASE MESHID OUT
  local base=$1 meshid=$2 out=$3
  node -e '
    process.env.NODE_TLS_REJECT_UNAUTHORIZED="0";
    require("https").get(process.argv[1],{rejectUnauthorized:false},r=>{let s="";r.on("data",d=>s+=d).on("end",()=>process.stdout.write(s))})' \
    "$base/meshsettings?id=${meshid##*/}" 2>/dev/null \
    | sed "s#^MeshServer=.*#MeshServer=${base/https:/wss:}/agent.ashx#" >"$out"
  grep -q '^MeshID=' "$out" || { log "bad meshagent.msh from $base"; return 1; }
}

new_agent () { # new_agent DIR NAME BASE MESHID: set up and start an agent
  local dir=$1 name=$2
  rm -rf "${dir:?}/$name"
  mkdir -p "$dir/$name"
  cp "$MC/agents/meshagent_x86-64" "$dir/$name/meshagent"
  chmod +x "$dir/$name/meshagent"
  fetch_msh "$3" "$4" "$dir/$name/meshagent.msh"
  start_agent "$dir" "$name"
}

# "ID<TAB>NAME" of the first online device that meshctrl ARGS… lists.
wait_device () { # wait_device LOG ARGS...
  local agentlog=$1 found="" end=$((SECONDS + 60))
  shift
  while [ -z "$found" ]; do
    [ $SECONDS -lt $end ] || { log "the agent did not come online"; cat "$agentlog" >&2; return 1; }
    sleep 0.5
    found=$("$@" ListDevices --json 2>/dev/null | node -e '
      let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{
        const n=JSON.parse(s).find(n=>n.conn&1); if(n)console.log(n._id+"\t"+n.name)}catch(e){}})')
  done
  echo "$found"
}

# nginx on loopback, in the foreground of its own session (stopped by PID).
start_nginx () { # start_nginx DIR CONF-BODY
  local dir=$1 module=/usr/lib/nginx/modules/ngx_stream_module.so load=""
  command -v nginx >/dev/null || { log "nginx is not installed (build-aux/install-deps.sh)"; return 1; }
  mkdir -p "$dir/nginx"
  if [ -f "$module" ]; then load="load_module $module;"; fi
  cat >"$dir/nginx/nginx.conf" <<CONF
$load
daemon off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
$2
CONF
  (exec setsid nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" \
     >"$dir/nginx.log" 2>&1) &
  echo $! >"$dir/nginx.pid"
}

listening () { # listening PORT
  node -e 'require("net").connect(+process.argv[1],"127.0.0.1").on("connect",()=>process.exit(0)).on("error",()=>process.exit(1))' "$1"
}

# Config, accounts, certificates and testbed.env of a server in DIR. MODE:
# main (TLS itself; the domains "" and "other") or offload (plain HTTP behind
# nginx on PUBLIC_PORT, which holds the same certificate).
prepare_server () { # prepare_server DIR MODE PORT PUBLIC_PORT
  local dir=$1 mode=$2 port=$3 public=$4 data=$1/meshcentral-data pass other_pass settings domains
  pass="Pw-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
  other_pass="Pw-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
  rm -rf "$data" "$dir/agent" "$dir/agent-other" "$dir/offload"
  mkdir -p "$data"
  # Certificates take ~20 s to make: reuse the ones of an earlier run.
  if [ -d "$CACHE/certs" ]; then cp "$CACHE/certs/"* "$data/"; fi
  settings='"cert": "'$HOSTNAME_CERT'", "port": '$port', "portBind": "127.0.0.1",
                "redirPort": 0, "mpsPort": 0, "exactPorts": true, "selfUpdate": false,
                "agentPong": 60, "browserPing": 30'
  domains='"": { "title": "test", "newAccounts": false, "allowLoginToken": true }'
  if [ "$mode" = offload ]; then
    settings+=', "tlsOffload": "127.0.0.1", "aliasPort": '$public
    domains='"": { "title": "offload", "newAccounts": false, "allowLoginToken": true,
                   "certUrl": "https://127.0.0.1:'$public'/" }'
  else
    domains+=', "other": { "title": "other", "newAccounts": false, "allowLoginToken": true }'
  fi
  echo "{ \"settings\": { $settings }, \"domains\": { $domains } }" >"$data/config.json"
  node "$MC" --datapath "$data" --createaccount admin --pass "$pass" --email a@example.com >"$dir/setup.log" 2>&1
  node "$MC" --datapath "$data" --adminaccount admin >>"$dir/setup.log" 2>&1
  if [ "$mode" = main ]; then
    node "$MC" --datapath "$data" --createaccount bob --domain other --pass "$other_pass" \
         --email b@example.com >>"$dir/setup.log" 2>&1
    node "$MC" --datapath "$data" --adminaccount bob --domain other >>"$dir/setup.log" 2>&1
  fi
  cat >"$dir/testbed.env" <<ENV
MCR_TEST_DIR='$dir'
MCR_TEST_HOST='127.0.0.1'
MCR_TEST_PORT=$public
MCR_TEST_SERVER_PORT=$port
MCR_TEST_URL='wss://127.0.0.1:$public'
MCR_TEST_USER='admin'
MCR_TEST_PASS='$pass'
MCR_TEST_MESHCTRL='$MC/meshctrl.js'
ENV
  if [ "$mode" = main ]; then
    cat >>"$dir/testbed.env" <<ENV
MCR_TEST_OTHER_DOMAIN='other'
MCR_TEST_OTHER_USER='bob'
MCR_TEST_OTHER_PASS='$other_pass'
ENV
  fi
}

server_certhash () { # server_certhash DIR
  node -e '
    const c=require("crypto"),fs=require("fs");
    const x=new c.X509Certificate(fs.readFileSync(process.argv[1]));
    console.log(c.createHash("sha384").update(x.raw).digest("hex").toUpperCase())' \
    "$1/meshcentral-data/webserver-cert-public.crt"
}

cmd_start () {
  local dir=$1
  install_mc
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local port data=$dir/meshcentral-data
  port=$(free_port)
  prepare_server "$dir" main "$port" "$port"
  log "starting the server on 127.0.0.1:$port"
  start_server "$dir"
  if [ ! -d "$CACHE/certs" ]; then
    mkdir -p "$CACHE/certs.tmp" && cp "$data/"*.crt "$data/"*.key "$CACHE/certs.tmp/" \
      && mv "$CACHE/certs.tmp" "$CACHE/certs" || rm -rf "$CACHE/certs.tmp"
  fi
  local certhash meshid other_meshid
  certhash=$(server_certhash "$dir")
  meshid=$(meshctrl "$dir" AddDeviceGroup --name lab | sed -n 's/^ok //p')
  [ -n "$meshid" ] || { log "could not create the device group"; return 1; }
  # shellcheck disable=SC1091
  . "$dir/testbed.env"
  other_meshid=$(node "$MC/meshctrl.js" --url "wss://127.0.0.1:$port/other" --loginuser bob \
                   --loginpass "$MCR_TEST_OTHER_PASS" AddDeviceGroup --name lab2 | sed -n 's/^ok //p')
  [ -n "$other_meshid" ] || { log "could not create the device group of the domain other"; return 1; }
  new_agent "$dir" agent "https://127.0.0.1:$port" "$meshid"
  new_agent "$dir" agent-other "https://127.0.0.1:$port/other" "$other_meshid"
  # TLS passed through by nginx (its stream module) to the server.
  local passthrough
  passthrough=$(free_port)
  start_nginx "$dir" "stream { server { listen 127.0.0.1:$passthrough; proxy_pass 127.0.0.1:$port; } }"
  local nodeid other_nodeid
  nodeid=$(wait_device "$dir/agent.log" meshctrl "$dir")
  other_nodeid=$(wait_device "$dir/agent-other.log" node "$MC/meshctrl.js" \
                   --url "wss://127.0.0.1:$port/other" --loginuser bob --loginpass "$MCR_TEST_OTHER_PASS")
  wait_for 10 "nginx to listen" listening "$passthrough" || { cat "$dir/nginx.log" >&2; return 1; }
  cat >>"$dir/testbed.env" <<ENV
MCR_TEST_CERTHASH='$certhash'
MCR_TEST_MESHID='$meshid'
MCR_TEST_NODEID='${nodeid%%$'\t'*}'
MCR_TEST_NODENAME='${nodeid#*$'\t'}'
MCR_TEST_OTHER_MESHID='$other_meshid'
MCR_TEST_OTHER_NODEID='${other_nodeid%%$'\t'*}'
MCR_TEST_OTHER_NODENAME='${other_nodeid#*$'\t'}'
MCR_TEST_PASSTHROUGH_PORT=$passthrough
ENV
  start_extra_agents "$dir" "${nodeid%%$'\t'*}"
  log "ready: node ${nodeid%%$'\t'*} (${nodeid#*$'\t'}) online; domain other: ${other_nodeid%%$'\t'*}"
}

# A second server that speaks plain HTTP behind nginx, which ends TLS
# (MeshCentral's tlsOffload; certUrl tells it the certificate nginx shows):
# own accounts, group and agent, all in DIR/offload.
offload_start () { # offload_start DIR
  local dir
  dir=$(cd "$1" && pwd)/offload
  [ -d "$CACHE/certs" ] || { log "offload-start needs the certificates of a first start"; return 1; }
  mkdir -p "$dir"
  local port public
  port=$(free_port) public=$(free_port)
  prepare_server "$dir" offload "$port" "$public"
  local data=$dir/meshcentral-data
  # nginx first: the server fetches the certificate from it (certUrl) as it starts.
  start_nginx "$dir" "http {
  access_log off;
  client_body_temp_path $dir/nginx/body; proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi; uwsgi_temp_path $dir/nginx/uwsgi; scgi_temp_path $dir/nginx/scgi;
  server {
    listen 127.0.0.1:$public ssl;
    ssl_certificate $data/webserver-cert-public.crt;
    ssl_certificate_key $data/webserver-cert-private.key;
    location / {
      proxy_pass http://127.0.0.1:$port;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \"upgrade\";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-Host \$host:\$server_port;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 330s;
      proxy_send_timeout 330s;
    }
  }
}"
  wait_for 10 "nginx to listen" listening "$public" || { cat "$dir/nginx.log" >&2; return 1; }
  log "starting the tlsOffload server on 127.0.0.1:$port behind nginx on 127.0.0.1:$public"
  start_server "$dir"
  local meshid nodeid
  meshid=$(meshctrl "$dir" AddDeviceGroup --name lab | sed -n 's/^ok //p')
  [ -n "$meshid" ] || { log "could not create the device group"; return 1; }
  new_agent "$dir" agent "https://127.0.0.1:$public" "$meshid"
  nodeid=$(wait_device "$dir/agent.log" meshctrl "$dir")
  cat >>"$dir/testbed.env" <<ENV
MCR_TEST_CERTHASH='$(server_certhash "$dir")'
MCR_TEST_MESHID='$meshid'
MCR_TEST_NODEID='${nodeid%%$'\t'*}'
MCR_TEST_NODENAME='${nodeid#*$'\t'}'
ENV
  log "offload ready: node ${nodeid%%$'\t'*} online through nginx on $public"
}

cmd_stop () {
  local dir=$1 f
  if [ -d "$dir/offload" ]; then cmd_stop "$dir/offload"; fi
  for f in "$dir"/agent[0-9]*.pid "$dir"/agent-*.pid; do
    if [ -e "$f" ]; then stop_pidfile "$f"; fi
  done
  stop_pidfile "$dir/agent.pid"
  stop_pidfile "$dir/server.pid"
  stop_pidfile "$dir/nginx.pid"
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
  offload-start) offload_start "$2" ;;
  *) sed -n '4,31p' "$0" >&2; exit 2 ;;
esac
