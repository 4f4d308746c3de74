# Shared by the demo and benchmark scripts: free loopback ports and a throwaway nginx in a private folder.

# Prints COUNT free ports on 127.0.0.1, starting the search at FIRST.
free_ports() {
  local count=$1 candidate=$2 found=0
  while ((found < count)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      found=$((found + 1))
    fi
    candidate=$((candidate + 1))
  done
}

# Starts nginx with its files under PREFIX, WORKERS worker processes and the server blocks in SERVERS (text);
# stops it when the calling script exits, then waits until PORT accepts connections.
start_nginx() {
  local prefix=$1 workers=$2 servers=$3 port=$4
  mkdir -p "$prefix/logs" "$prefix/tmp"
  cat >"$prefix/nginx.conf" <<NGINX
worker_processes $workers;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  default_type application/octet-stream;
$servers
}
NGINX
  nginx -p "$prefix" -c "$prefix/nginx.conf" -g "daemon on;"
  trap "nginx -p '$prefix' -c '$prefix/nginx.conf' -s stop 2>/dev/null || true" EXIT
  local _
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx did not start listening on 127.0.0.1:$port; see $prefix/logs/error.log" >&2
  return 1
}
