#!/bin/bash
# The New Connection wizard's "activate the rules": CRTVPNCNN ACTFTR(*YES)
# runs LODIPFTR OPTION(*LOAD) LIND(*ALL) INCVPN(*YES), which must load
# exactly the rules the configuration generates, on the line the wizard
# names. Then the generated policy filter and "permit all other traffic".
#
#   qv-ru-hc                                  qv-ru-hs (System A, line TRLINE)
#   lo 10.196.8.1/32                          lo 10.6.0.1/32
#   qv-ru-hc0 198.51.100.250/24 ------------- qv-ru-hs0 198.51.100.227/24
. "$(dirname "$0")/lib.sh"

for exe in CRTLINETH CRTVPNCNN; do
	[ -x "$QV_BIN/$exe" ] || qv_skip "$exe not built"
done
C=qv-ru-hc S=qv-ru-hs
qv_ns $C
qv_ns $S
qv_veth $C qv-ru-hc0 198.51.100.250/24 $S qv-ru-hs0 198.51.100.227/24
ip -n $C addr add 10.196.8.1/32 dev lo
ip -n $S addr add 10.6.0.1/32 dev lo
ip -n $C route add 10.6.0.0/16 via 198.51.100.227
ip -n $S route add 10.196.8.0/24 via 198.51.100.250
ping_ok() { qv_in $C busybox ping -c 1 -W 1 "$@" >/dev/null 2>&1; }

qv_expect 0 "CRTLINETH LIND(TRLINE) RSRCNAME(qv-ru-hs0)" \
	qv_in $S CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qv-ru-hs0)'
qv_expect 0 "CRTVPNCNN ... ACTFTR(*YES) creates the connection and activates its rules" \
	qv_in $S CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' \
	"PSK('topsecretstuff')" 'LCLKEYSVR(*IPV4 198.51.100.227)' 'RMTKEYSVR(*IPV4 198.51.100.250)' \
	'LCLDTAEP(*IPV4SUBNET 10.6.0.0 255.255.0.0)' 'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*IPTRAFFIC)' 'ACTFTR(*YES)'
grep -q NFT0001 "$QV_TMP/out" || qv_fail "LODIPFTR's completion message is missing"

qv_in $S DSPIPFTR --json >"$QV_TMP/dsp.json" || qv_fail "DSPIPFTR"
/usr/bin/python3 - "$QV_TMP/dsp.json" <<'EOF' || qv_fail "the activated rules"
import json, sys
j = json.load(open(sys.argv[1]))
assert [l["line"] for l in j["lines"]] == ["TRLINE"], j["lines"]
l = j["lines"][0]
assert l["interface"] == "qv-ru-hs0" and l["file"] == "" and l["incvpn"], l
assert l["sets"] == ["preipsec_HRgw2FINgw", "policy_HRgw2FINgw", "permit_other"], l["sets"]
pol = [r for r in l["rules"] if r["action"] == "IPSEC"]
assert len(pol) == 1 and pol[0]["connection"] == "HRgw2FINgw" and pol[0]["journal"], pol
assert j["journal_job"]["running"], j["journal_job"]
EOF
qv_ok "exactly the generated sets on TRLINE, policy filter journaled (JRN(*IPTRAFFIC))"

ping_ok 198.51.100.227 || qv_fail "other traffic is not permitted"
qv_ok "OTHERTRAFFIC(*PERMIT): other traffic flows"
ping_ok -I 10.196.8.1 10.6.0.1 && qv_fail "cleartext between the data endpoints passed"
qv_ok "cleartext between the data endpoints is dropped by the policy filter"
sleep 1.5
n=$(qv_tf_count "TFREVT = 'A' AND TFACT = 'DENY' AND TFSRCA = '10.196.8.1'")
[ "$n" = 1 ] || qv_fail "the dropped cleartext wrote $n journal entries, expected 1"
qv_ok "the dropped cleartext was journaled once (TFACT DENY)"
echo "PASS: rules_actftr"
