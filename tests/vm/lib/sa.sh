# shellcheck shell=bash
# tests/vm/lib/sa.sh -- one manually keyed CHILD_SA described once, written
# out for both ends: as ChildSa JSON for qvpn (qv_child_json) and as
# `ip xfrm` states and policies for a kernel-keyed peer (qv_xfrm_side).
# Used by the VM guest tests and the host namespace tests alike.
#
# The scenario (set before calling; defaults in brackets):
#   SA_ENCR [ENCR_AES_GCM_16]  SA_BITS [128]  SA_INTEG [NONE]   ESP transform
#   SA_ESP [1]                 ESP at all (0: AH only)
#   SA_AH_INTEG []             AH with this integrity transform ("": no AH)
#   SA_MODE [tunnel]           tunnel | transport
#   SA_ESN [false]  SA_WINDOW [64]  SA_ENCAP [0]  SA_IPCOMP [0]  SA_TFC [false]
#   SA_REQID [1364590593]      in qvpn's reqid band
#   SA_L_OUT/SA_R_OUT [192.0.2.1/192.0.2.2]   outer addresses (left/right)
#   SA_L_TS/SA_R_TS [10.1.0.0/24, 10.2.0.0/24] data endpoints
#   SA_GEN [0]                 generation: a rekeyed CHILD_SA has new SPIs/keys
#   SA_SOFT_BYTES/SA_HARD_BYTES/SA_SOFT_SECONDS/SA_HARD_SECONDS [0]  lifetime
# SPIs and keys are fixed per direction and generation, so both ends agree.

qv_sa_defaults() {
	SA_ENCR=${SA_ENCR:-ENCR_AES_GCM_16}
	SA_BITS=${SA_BITS:-128}
	SA_INTEG=${SA_INTEG:-NONE}
	SA_ESP=${SA_ESP:-1}
	SA_AH_INTEG=${SA_AH_INTEG:-}
	SA_MODE=${SA_MODE:-tunnel}
	SA_ESN=${SA_ESN:-false}
	SA_WINDOW=${SA_WINDOW:-64}
	SA_ENCAP=${SA_ENCAP:-0}
	SA_IPCOMP=${SA_IPCOMP:-0}
	SA_TFC=${SA_TFC:-false}
	SA_REQID=${SA_REQID:-1364590593}
	SA_L_OUT=${SA_L_OUT:-192.0.2.1}
	SA_R_OUT=${SA_R_OUT:-192.0.2.2}
	SA_L_TS=${SA_L_TS:-10.1.0.0/24}
	SA_R_TS=${SA_R_TS:-10.2.0.0/24}
	SA_GEN=${SA_GEN:-0}
	SA_SOFT_BYTES=${SA_SOFT_BYTES:-0}
	SA_HARD_BYTES=${SA_HARD_BYTES:-0}
	SA_SOFT_SECONDS=${SA_SOFT_SECONDS:-0}
	SA_HARD_SECONDS=${SA_HARD_SECONDS:-0}
}

# qv_key BYTES SEED: a deterministic key of BYTES bytes (hex, no 0x).
qv_key() {
	local i out=
	for ((i = 0; i < $1; i++)); do out+=$(printf '%02x' $(( (i * 7 + $2) & 255 ))); done
	echo "$out"
}

# Key material bytes of an ESP transform (key + salt) and its kernel form.
qv_encr_bytes() {
	case $SA_ENCR in
	ENCR_AES_CTR | ENCR_AES_GCM_* | ENCR_NULL_AUTH_AES_GMAC) echo $((SA_BITS / 8 + 4)) ;;
	ENCR_AES_CCM_*) echo $((SA_BITS / 8 + 3)) ;;
	ENCR_NULL) echo 0 ;;
	*) echo $((SA_BITS / 8)) ;;
	esac
}
qv_integ_bytes() {
	case $1 in
	AUTH_HMAC_MD5_96 | AUTH_AES_XCBC_96) echo 16 ;;
	AUTH_HMAC_SHA1_96) echo 20 ;;
	AUTH_HMAC_SHA2_256_128) echo 32 ;;
	AUTH_HMAC_SHA2_384_192) echo 48 ;;
	AUTH_HMAC_SHA2_512_256) echo 64 ;;
	*) echo 0 ;;
	esac
}
qv_integ_xfrm() { # NAME KEY -> ip xfrm auth-trunc arguments
	case $1 in
	AUTH_HMAC_MD5_96) echo "auth-trunc 'hmac(md5)' 0x$2 96" ;;
	AUTH_HMAC_SHA1_96) echo "auth-trunc 'hmac(sha1)' 0x$2 96" ;;
	AUTH_AES_XCBC_96) echo "auth-trunc 'xcbc(aes)' 0x$2 96" ;;
	AUTH_HMAC_SHA2_256_128) echo "auth-trunc 'hmac(sha256)' 0x$2 128" ;;
	AUTH_HMAC_SHA2_384_192) echo "auth-trunc 'hmac(sha384)' 0x$2 192" ;;
	AUTH_HMAC_SHA2_512_256) echo "auth-trunc 'hmac(sha512)' 0x$2 256" ;;
	esac
}
qv_encr_xfrm() { # KEY -> ip xfrm enc/aead arguments
	local k=$1
	case $SA_ENCR in
	ENCR_AES_CBC) echo "enc 'cbc(aes)' 0x$k" ;;
	ENCR_AES_CTR) echo "enc 'rfc3686(ctr(aes))' 0x$k" ;;
	ENCR_3DES) echo "enc 'cbc(des3_ede)' 0x$k" ;;
	ENCR_DES) echo "enc 'cbc(des)' 0x$k" ;;
	ENCR_NULL) echo "enc 'ecb(cipher_null)' ''" ;;
	ENCR_AES_GCM_8) echo "aead 'rfc4106(gcm(aes))' 0x$k 64" ;;
	ENCR_AES_GCM_12) echo "aead 'rfc4106(gcm(aes))' 0x$k 96" ;;
	ENCR_AES_GCM_16) echo "aead 'rfc4106(gcm(aes))' 0x$k 128" ;;
	ENCR_AES_CCM_8) echo "aead 'rfc4309(ccm(aes))' 0x$k 64" ;;
	ENCR_AES_CCM_12) echo "aead 'rfc4309(ccm(aes))' 0x$k 96" ;;
	ENCR_AES_CCM_16) echo "aead 'rfc4309(ccm(aes))' 0x$k 128" ;;
	ENCR_NULL_AUTH_AES_GMAC) echo "aead 'rfc4543(gcm(aes))' 0x$k 128" ;;
	esac
}

# Per direction ("lr" = left to right, "rl"): SPIs, CPIs and key seeds.
qv_spi() {
	local g
	g=$(printf '%04x' "$SA_GEN")
	case $1$2 in
	esplr) echo "${g}a001" ;;
	esprl) echo "${g}b001" ;;
	ahlr) echo "${g}c001" ;;
	ahrl) echo "${g}d001" ;;
	complr) echo 4101 ;;
	comprl) echo 4201 ;;
	esac
}
qv_seed() {
	local base
	case $1$2 in esplr) base=1 ;; esprl) base=101 ;; ahlr) base=51 ;; ahrl) base=151 ;; esac
	echo $((base + SA_GEN * 31))
}

# SIDE -> its outer addresses, selectors and directions
qv_side() {
	if [ "$1" = l ]; then
		S_LOCAL=$SA_L_OUT S_REMOTE=$SA_R_OUT S_TSL=$SA_L_TS S_TSR=$SA_R_TS S_OUT=lr S_IN=rl
	else
		S_LOCAL=$SA_R_OUT S_REMOTE=$SA_L_OUT S_TSL=$SA_R_TS S_TSR=$SA_L_TS S_OUT=rl S_IN=lr
	fi
	if [ "$SA_MODE" = transport ]; then
		S_TSL=$S_LOCAL S_TSR=$S_REMOTE
	fi
}

qv_keys_json() { # DIR -> one SaKeys object
	local d=$1 ek= ik=
	if [ "$2" = esp ]; then
		ek=$(qv_key "$(qv_encr_bytes)" "$(qv_seed esp "$d")")
		ik=$(qv_key "$(qv_integ_bytes "$SA_INTEG")" $(( $(qv_seed esp "$d") + 17 )))
		printf '{"spi":"%s","encr":"%s","encr_key_bits":%s,"encr_key":"%s","integ":"%s","integ_key":"%s"}' \
			"$(qv_spi esp "$d")" "$SA_ENCR" "$([ "$SA_ENCR" = ENCR_NULL ] && echo 0 || echo "$SA_BITS")" \
			"$ek" "$SA_INTEG" "$ik"
	else
		ik=$(qv_key "$(qv_integ_bytes "$SA_AH_INTEG")" "$(qv_seed ah "$d")")
		printf '{"spi":"%s","encr":"ENCR_NULL","encr_key_bits":0,"encr_key":"","integ":"%s","integ_key":"%s"}' \
			"$(qv_spi ah "$d")" "$SA_AH_INTEG" "$ik"
	fi
}

# qv_child_json FILE SIDE [CONN]: the CHILD_SA as SIDE's qvpn sees it.
qv_child_json() {
	local f=$1 side=$2 conn=${3:-qv-$2}
	qv_sa_defaults
	qv_side "$side"
	{
		printf '{"conn":"%s","reqid":%s,"mode":"%s","local":"%s","remote":"%s",' \
			"$conn" "$SA_REQID" "$SA_MODE" "$S_LOCAL" "$S_REMOTE"
		[ "$SA_ENCAP" = 1 ] && printf '"encap":{"local_port":4500,"remote_port":4500},'
		[ "$SA_ESP" = 1 ] && printf '"esp":{"in":%s,"out":%s},' "$(qv_keys_json "$S_IN" esp)" "$(qv_keys_json "$S_OUT" esp)"
		[ -n "$SA_AH_INTEG" ] && printf '"ah":{"in":%s,"out":%s},' "$(qv_keys_json "$S_IN" ah)" "$(qv_keys_json "$S_OUT" ah)"
		[ "$SA_IPCOMP" = 1 ] && printf '"ipcomp":{"cpi_in":"%s","cpi_out":"%s"},' "$(qv_spi comp "$S_IN")" "$(qv_spi comp "$S_OUT")"
		printf '"esn":%s,"replay_window":%s,"tfc":%s,' "$SA_ESN" "$SA_WINDOW" "$SA_TFC"
		printf '"lifetime":{"soft_bytes":%s,"hard_bytes":%s,"soft_seconds":%s,"hard_seconds":%s},' \
			"$SA_SOFT_BYTES" "$SA_HARD_BYTES" "$SA_SOFT_SECONDS" "$SA_HARD_SECONDS"
		printf '"ts_local":[{"addrs":"%s"}],"ts_remote":[{"addrs":"%s"}]}\n' "$S_TSL" "$S_TSR"
	} >"$f"
}

# qv_xfrm_side NS SIDE [states|states-in|states-out|policies]: the same
# CHILD_SA keyed by hand into NS's kernel (everything by default; states
# alone add a rekeyed generation beside the installed one).
qv_xfrm_side() {
	local ns=$1 side=$2 what=${3:-all} mode dir proto d src dst args tmpls
	qv_sa_defaults
	qv_side "$side"
	local layers=()
	[ "$SA_IPCOMP" = 1 ] && layers+=(comp)
	[ "$SA_ESP" = 1 ] && layers+=(esp)
	[ -n "$SA_AH_INTEG" ] && layers+=(ah)
	local replay="replay-window $SA_WINDOW"
	[ "$SA_ESN" = true ] && replay+=" flag esn"
	# states: innermost layer in the CHILD_SA's mode, the others transport
	for d in "$S_OUT" "$S_IN"; do
		[ "$what" = policies ] && break
		[ "$what" = states-in ] && [ "$d" = "$S_OUT" ] && continue
		[ "$what" = states-out ] && [ "$d" = "$S_IN" ] && continue
		if [ "$d" = "$S_OUT" ]; then src=$S_LOCAL dst=$S_REMOTE; else src=$S_REMOTE dst=$S_LOCAL; fi
		mode=$SA_MODE
		for proto in "${layers[@]}"; do
			case $proto in
			comp) args="proto comp spi 0x$(qv_spi comp "$d") reqid $SA_REQID mode $mode comp deflate" ;;
			esp)
				args="proto esp spi 0x$(qv_spi esp "$d") reqid $SA_REQID mode $mode $replay $(qv_encr_xfrm "$(qv_key "$(qv_encr_bytes)" "$(qv_seed esp "$d")")")"
				[ "$SA_INTEG" != NONE ] && args+=" $(qv_integ_xfrm "$SA_INTEG" "$(qv_key "$(qv_integ_bytes "$SA_INTEG")" $(( $(qv_seed esp "$d") + 17 )))")"
				if [ "$SA_ENCAP" = 1 ]; then args+=" encap espinudp 4500 4500 0.0.0.0"; fi
				;;
			ah)
				# IPv4 AH 32-bit aligned (RFC 4302 2.2), as IKE daemons key it
				args="proto ah spi 0x$(qv_spi ah "$d") reqid $SA_REQID mode $mode $replay"
				[[ $src == *:* ]] || args+=" flag align4"
				args+=" $(qv_integ_xfrm "$SA_AH_INTEG" "$(qv_key "$(qv_integ_bytes "$SA_AH_INTEG")" "$(qv_seed ah "$d")")")" ;;
			esac
			# the ID (src, dst, proto, spi) must come first
			eval "ip -n \"$ns\" xfrm state add src $src dst $dst $args" || return 1
			mode=transport
		done
	done
	# policies: out, in, and fwd in tunnel mode
	[[ $what == states* ]] && return 0
	for dir in out in fwd; do
		[ "$dir" = fwd ] && [ "$SA_MODE" != tunnel ] && continue
		if [ "$dir" = out ]; then src=$S_LOCAL dst=$S_REMOTE; else src=$S_REMOTE dst=$S_LOCAL; fi
		tmpls= mode=$SA_MODE
		for proto in "${layers[@]}"; do
			tmpls+=" tmpl"
			[ "$mode" = tunnel ] && tmpls+=" src $src dst $dst"
			tmpls+=" proto $proto reqid $SA_REQID mode $mode"
			[ "$proto" = comp ] && [ "$dir" != out ] && tmpls+=" level use"
			mode=transport
		done
		if [ "$dir" = out ]; then
			ip -n "$ns" xfrm policy add src "$S_TSL" dst "$S_TSR" dir out $tmpls || return 1
		else
			ip -n "$ns" xfrm policy add src "$S_TSR" dst "$S_TSL" dir "$dir" $tmpls || return 1
		fi
	done
}

qv_xfrm_flush() {
	ip -n "$1" xfrm state flush
	ip -n "$1" xfrm policy flush
}
