#!/bin/bash
# A policy filter with a real IPsec tunnel: traffic between the data
# endpoints passes only through the tunnel. The tunnel is strongSwan's
# userspace data path (kernel-libipsec: a TUN device, ESP in UDP 4500), the
# shape of qvpn's own userspace data path, so this test runs on any host
# kernel. (The kernel XFRM branch of the policy filter, `rt ipsec exists`
# and `meta ipsec exists`, needs ESP in the kernel: the QEMU VM.)
#
#   qv-ru-ia (System A, qvpn rules)             qv-ru-ic (System C)
#   lo 10.6.0.1/32                              lo 10.196.8.1/32
#   qv-ru-ia0 192.0.2.1/24 (line TRLINE) ------ qv-ru-ic0 192.0.2.2/24
#   charon (responder)                          charon (initiator)
#
# System A's rules are generated from the branch office group HRgw2FINgw
# (key servers 192.0.2.1 and 192.0.2.2, data endpoints 10.6.0.0/16 and
# 10.196.8.0/24) without "permit all other traffic".
. "$(dirname "$0")/lib.sh"

CHARON=/usr/lib/ipsec/charon
[ -x "$CHARON" ] || qv_skip "strongSwan's charon is not installed"
command -v swanctl >/dev/null || qv_skip "swanctl is not installed"
[ -c /dev/net/tun ] || qv_skip "no /dev/net/tun"

A=qv-ru-ia C=qv-ru-ic
qv_ns $A
qv_ns $C
for n in $A $C; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
qv_veth $A qv-ru-ia0 192.0.2.1/24 $C qv-ru-ic0 192.0.2.2/24
ip -n $A addr add 10.6.0.1/32 dev lo
ip -n $C addr add 10.196.8.1/32 dev lo
# Without the tunnel, the subnets are reachable in cleartext: that is what
# the policy filter must stop.
ip -n $A route add 10.196.8.0/24 via 192.0.2.2
ip -n $C route add 10.6.0.0/16 via 192.0.2.1

qv_in $A "$QV_FIXTURE" --line TRLINE --interface qv-ru-ia0 --local-ks 192.0.2.1 \
	--remote-ks 192.0.2.2 --no-permit-other || qv_fail "cannot write System A's configuration"
qv_expect 0 "System A loads its generated rules" qv_in $A LODIPFTR '*LOAD' '*ALL' 'INCVPN(*YES)'

ping_ok() { qv_in $C busybox ping -c 2 -W 1 -I 10.196.8.1 10.6.0.1 >/dev/null 2>&1; }
counters() {  # prints "clear_dropped secure preipsec_packets" of System A
	qv_in $A DSPIPFTR --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
rules = j["lines"][0]["rules"]
pol = [r for r in rules if r["action"] == "IPSEC"][0]
pre = sum(r["in"]["packets"] + r["out"]["packets"] for r in rules if r["set"].startswith("preipsec"))
print(pol["ipsec"]["clear_dropped"]["packets"], pol["ipsec"]["secure"]["packets"], pre)'
}

ping_ok && qv_fail "cleartext between the data endpoints passed before the tunnel"
read -r clear0 _ pre0 < <(counters)
[ "$clear0" -ge 2 ] || qv_fail "the policy filter counted $clear0 dropped cleartext packets"
qv_ok "without the tunnel, the policy filter drops the cleartext ($clear0 packets)"

# --- strongSwan on both systems, each with a private /run ---
charon_conf() {  # charon_conf NAME
	local d=$QV_TMP/$1
	mkdir -p "$d/run" "$d/swanctl"
	(cd "$d/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private \
		rsa ecdsa bliss pkcs8 pkcs12)
	cat >"$d/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 hmac kdf gmp gcm openssl socket-default kernel-libipsec kernel-netlink vici
  retransmit_timeout = 1.0
  retransmit_tries = 3
  plugins {
    vici { socket = unix://$d/charon.vici }
  }
  filelog {
    test { path = $d/charon.log
           default = 1
           ike = 2 }
  }
}
swanctl { load = random nonce }
EOF
}
swan_conf() {  # swan_conf NAME LOCAL REMOTE LOCAL_ID REMOTE_ID LOCAL_TS REMOTE_TS
	cat >"$QV_TMP/$1/swanctl/swanctl.conf" <<EOF
connections {
  net {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128-sha256-modp2048
    local { auth = psk
            id = $4 }
    remote { auth = psk
             id = $5 }
    children {
      net { mode = tunnel
            local_ts = $6
            remote_ts = $7
            esp_proposals = aes128-sha256 }
    }
  }
}
secrets {
  ike-test { id-a = $4
             id-b = $5
             secret = "qv-ru-tunnel-test-psk" }
}
EOF
}
charon_start() {  # charon_start NAME NS
	local d=$QV_TMP/$1
	ip netns exec "$2" sh -c 'mount -o bind "$1/run" /run || exit 97
		STRONGSWAN_CONF="$1/strongswan.conf" exec "$2"' sh "$d" "$CHARON" \
		>"$d/charon.out" 2>&1 </dev/null &
	QV_PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "$d/charon.vici" ] && swan "$1" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$d/charon.out" "$d/charon.log" 2>/dev/null
	qv_fail "charon $1 did not start"
}
swan() {  # swan NAME ARGS...
	local d=$QV_TMP/$1
	shift
	STRONGSWAN_CONF=$d/strongswan.conf timeout 20 swanctl "$@" --uri "unix://$d/charon.vici"
}

charon_conf a
charon_conf c
swan_conf a 192.0.2.1 192.0.2.2 a.test c.test 10.6.0.0/16 10.196.8.0/24
swan_conf c 192.0.2.2 192.0.2.1 c.test a.test 10.196.8.0/24 10.6.0.0/16
charon_start a $A
charon_start c $C
for s in a c; do
	swan $s --load-all --file "$QV_TMP/$s/swanctl/swanctl.conf" >/dev/null 2>&1 ||
		qv_fail "swanctl --load-all on $s"
done

qv_expect 0 "System C brings the tunnel up through System A's pre-IPSec rules" \
	swan c --initiate --child net
ping_ok || { cat "$QV_TMP/a/charon.log" | tail -20; qv_fail "no traffic through the tunnel"; }
qv_ok "traffic between the data endpoints flows through the tunnel"
read -r clear1 _ pre1 < <(counters)
[ "$clear1" = "$clear0" ] || qv_fail "tunnel traffic hit the policy filter's cleartext drop"
[ "$pre1" -gt "$pre0" ] || qv_fail "IKE and ESP-in-UDP did not pass the pre-IPSec rules"
qv_ok "IKE and ESP in UDP 4500 passed the pre-IPSec rules ($pre1 packets); no cleartext dropped"

qv_expect 0 "System C ends the tunnel" swan c --terminate --ike net
ping_ok && qv_fail "cleartext passed after the tunnel went down"
read -r clear2 _ _ < <(counters)
[ "$clear2" -gt "$clear1" ] || qv_fail "the cleartext after the tunnel was not dropped by the policy filter"
qv_ok "after the tunnel, the cleartext is dropped again"
echo "PASS: rules_ipsec_tunnel"
