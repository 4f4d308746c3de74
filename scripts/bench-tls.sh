#!/usr/bin/env bash
# Benchmark: one full TLS scan of each of three local nginx servers (Mozilla modern, intermediate, and a weak TLS 1.0
# / CBC / 1024-bit DH one) by `vouch tls`, sslyze and sslscan, in the same run. Prints the median wall time of R runs
# per tool and server, the speed-ups, and whether the three tools found identical accepted protocols, suites and EC
# groups. Usage: scripts/bench-tls.sh [R] (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
. scripts/lib/nginx.sh
repeats="${1:-5}"
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh --tests
. scripts/lib/release.sh
vouch="$(release_binary vouch)"
sslyze="$root/.venv-tools/bin/sslyze"

work="$root/.bench-tls"
rm -rf "$work"
mkdir -p "$work/pki" "$work/out"
pki="$work/pki"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" \
  -days 2 -subj "/CN=Vouch Bench CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$pki/ext"
leaf() {
  ossl req -new -newkey "$2" ${3:+-pkeyopt "$3"} -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1"
  ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -CAserial "$pki/serial" \
    -out "$pki/$1.pem" -days 2 -extfile "$pki/ext"
}
leaf ecdsa ec ec_paramgen_curve:prime256v1
leaf rsa rsa:2048
ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$pki/dh2048.pem"
ossl dhparam -dsaparam -out "$pki/dh1024.pem" 1024

mapfile -t ports < <(free_ports 3 19443)
modern=${ports[0]} intermediate=${ports[1]} weak=${ports[2]}
start_nginx "$work/nginx" 1 "
  server {
    listen 127.0.0.1:$modern ssl;
    ssl_certificate $pki/ecdsa.pem; ssl_certificate_key $pki/ecdsa.key;
    ssl_protocols TLSv1.3; ssl_ecdh_curve X25519:prime256v1:secp384r1;
    location / { add_header Strict-Transport-Security \"max-age=63072000\" always; return 200 modern; }
  }
  server {
    listen 127.0.0.1:$intermediate ssl;
    ssl_certificate $pki/rsa.pem; ssl_certificate_key $pki/rsa.key;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1:secp384r1; ssl_dhparam $pki/dh2048.pem;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    location / { return 200 intermediate; }
  }
  server {
    listen 127.0.0.1:$weak ssl;
    ssl_certificate $pki/rsa.pem; ssl_certificate_key $pki/rsa.key;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_dhparam $pki/dh1024.pem; ssl_prefer_server_ciphers on;
    ssl_ciphers ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA:DHE-RSA-AES256-SHA256:@SECLEVEL=0;
    location / { return 200 weak; }
  }" "$weak"

# Milliseconds of one run of the command; its standard output goes to the file named first, errors beside it.
timed() {
  local out=$1 start end
  shift
  start=$(date +%s%N)
  "$@" >"$out" 2>"$out.err" || true
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

printf '%-13s %10s %10s %10s %12s %12s  %s\n' server "vouch ms" "sslyze ms" "sslscan ms" "vs sslyze" "vs sslscan" "accepted sets"
for name in modern intermediate weak; do
  port=${!name}
  : >"$work/out/$name.vouch.ms"; : >"$work/out/$name.sslyze.ms"; : >"$work/out/$name.sslscan.ms"
  for _ in $(seq "$repeats"); do
    profile=$name
    [ "$name" = weak ] && profile=old
    timed "$work/out/$name.vouch.json" "$vouch" tls "127.0.0.1:$port" --profile "$profile" --ca-bundle "$pki/ca.pem" \
      >>"$work/out/$name.vouch.ms"
    timed "$work/out/$name.sslyze.log" "$sslyze" --quiet --json_out="$work/out/$name.sslyze.json" --mozilla_config=disable --tlsv1 --tlsv1_1 \
      --tlsv1_2 --tlsv1_3 --elliptic_curves "127.0.0.1:$port" >>"$work/out/$name.sslyze.ms"
    timed "$work/out/$name.sslscan.txt" sslscan --no-colour --xml="$work/out/$name.sslscan.xml" "127.0.0.1:$port" \
      >>"$work/out/$name.sslscan.ms"
  done
  v=$(median <"$work/out/$name.vouch.ms")
  y=$(median <"$work/out/$name.sslyze.ms")
  s=$(median <"$work/out/$name.sslscan.ms")
  same=$(python3 - "$work/out/$name" <<'PY'
import json, subprocess, sys, xml.etree.ElementTree as ET
base = sys.argv[1]
vouch = json.load(open(base + ".vouch.json"))
v_suites = {k: set(x) for k, x in vouch["cipher_suites"].items()}
v_groups = {g for g in vouch["groups"] if not g.startswith("ffdhe")}
scan = json.load(open(base + ".sslyze.json"))["server_scan_results"][0]["scan_result"]
y_suites = {}
for key, version in [("tls_1_0", "TLS 1.0"), ("tls_1_1", "TLS 1.1"), ("tls_1_2", "TLS 1.2"), ("tls_1_3", "TLS 1.3")]:
    names = {s["cipher_suite"]["name"] for s in scan[key + "_cipher_suites"]["result"]["accepted_cipher_suites"]}
    if names: y_suites[version] = names
y_groups = {c["name"].lower() for c in (scan["elliptic_curves"]["result"]["supported_curves"] or [])}
names = {}
for line in subprocess.run(["openssl", "ciphers", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                           capture_output=True, text=True).stdout.splitlines():
    parts = line.split(" - ")
    if len(parts) >= 2: names[parts[1].split()[0]] = parts[0].strip()
s_suites = {}
versions = {"TLSv1.0": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}
root = ET.parse(base + ".sslscan.xml").getroot()
for c in root.iter("cipher"):
    if c.get("status") in ("accepted", "preferred"):
        s_suites.setdefault(versions[c.get("sslversion")], set()).add(names.get(c.get("cipher"), c.get("cipher")))
aliases = {"secp256r1": "secp256r1", "prime256v1": "secp256r1"}
s_groups = {aliases.get(n, n) for n in (g.get("name").split()[0].lower() for g in root.iter("group"))}
s_groups = {g for g in s_groups if not g.startswith("ffdhe")}
ok_y = v_suites == y_suites and v_groups == y_groups
ok_s = v_suites == s_suites and v_groups == s_groups
print(("identical" if ok_y and ok_s else
       f"DIFFER sslyze={'same' if ok_y else (y_suites, y_groups)} sslscan={'same' if ok_s else (s_suites, s_groups)}"
       f" vouch={(v_suites, v_groups)}"))
PY
)
  printf '%-13s %10s %10s %10s %11sx %11sx  %s\n' "$name" "$v" "$y" "$s" \
    "$(awk "BEGIN { printf \"%.1f\", $y / $v }")" "$(awk "BEGIN { printf \"%.1f\", $s / $v }")" "$same"
done
sslscan_version=$(sslscan --version | head -1 | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' \t' ' ' | sed 's/^ //')
echo "($repeats runs each; release build with the Swift runtime linked in; sslyze $("$sslyze" --help |
  sed -n 's/^SSLyze version //p'), sslscan $sslscan_version)"
