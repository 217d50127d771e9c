#!/bin/bash
# DSPJRN over journals written by the real writer: every output form, the
# selection parameters and the outfile checked field by field.
set -u
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/qv-vm-jrn.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export QVPN_ROOT=$TMP
APPEND=$QVPN_BUILD_DIR/tests/journal_append
command -v sqlite3 >/dev/null || skip "sqlite3 (Debian package sqlite3) is needed to read outfiles"

expect_rc 1 JRN0001 DSPJRN 'JRN(QVPN)'
expect_rc 1 JRN0004 DSPJRN 'JRN(QAUDJRN)'
$APPEND QVPN 3 || fail "append QVPN"
$APPEND QIPFILTER 2 || fail "append QIPFILTER"

# Display report.
out=$(DSPJRN 'JRN(QVPN)') || fail "DSPJRN: $out"
echo "$out" | grep -q 'TSCONM=HRgw2FINgw:L1' || fail "report: $out"
[ "$(echo "$out" | grep -c ' M     TS ')" = 3 ] || fail "report entries: $out"

# Selection: codes, types, count, time.
expect_rc 1 JRN0001 DSPJRN 'JRN(QVPN)' 'JRNCDE((J))'
expect_rc 1 JRN0001 DSPJRN 'JRN(QVPN)' 'ENTTYP((TF))'
[ "$(DSPJRN 'JRN(QVPN)' 'ENTTYP((TS))' 'NBRENT(2)' --json | grep -c '"TSSEQN"')" = 2 ] \
  || fail "NBRENT(2)"
expect_rc 1 JRN0001 DSPJRN 'JRN(QVPN)' "FROMTIME('2999-01-01' '00:00:00')"
expect_rc 1 JRN0001 DSPJRN 'JRN(QVPN)' "TOTIME('2000-01-01')"
today=$(date +%Y-%m-%d)
[ "$(DSPJRN 'JRN(QVPN)' "FROMTIME('$today')" "TOTIME('$today' '23:59:59')" 'OUTPUT(*CSV)' | wc -l)" = 4 ] \
  || fail "FROMTIME/TOTIME today"
expect_rc 1 JRN0005 DSPJRN 'JRN(QVPN)' "FROMTIME('2026-13-01')"

# CSV: header of the seed's names, one line per entry.
csv=$(DSPJRN 'JRN(QUSRSYS/QVPN)' 'OUTPUT(*CSV)')
echo "$csv" | head -1 | grep -q '^TSENTL,TSSEQN,TSCODE,TSENTT,TSTIME,TSJOB,TSUSER,TSNBR,TSPGM,TSRES1,TSUSPF,TSSYNM,TSRES2,TSRESA,TSESDL,TSCMPN,TSCONM,' \
  || fail "CSV header: $(echo "$csv" | head -1)"

# The seed's outfile command, field by field.
expect_rc 0 JRN0007 DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' 'OUTPUT(*OUTFILE)' \
  'OUTFILFMT(*TYPE4)' 'OUTFILE(MYLIB/MYFILE)' 'ENTDTALEN(*VARLEN *CALC)'
db=$QVPN_ROOT/lib/MYLIB.db
[ -f "$db" ] || fail "no library database"
cols=$(sqlite3 "$db" "SELECT group_concat(name, ' ') FROM pragma_table_info('MYFILE')")
want="TSENTL TSSEQN TSCODE TSENTT TSTIME TSJOB TSUSER TSNBR TSPGM TSRES1 TSUSPF TSSYNM TSRES2 TSRESA TSESDL TSCMPN TSCONM TSCOTY TSCOS TSCOSD TSCOST TSCOED TSCOET TSTRPR TSLCAD TSLCPR TSRCAD TSCPR TSLEP TSREP TSCORF TSRFDA TSRFTI TSRFLS TSSAPH TSAUTH TSENCR TSDHGR TSERRC"
[ "$cols" = "$want" ] || fail "outfile fields: $cols"
row=$(sqlite3 -separator '|' "$db" "SELECT TSSEQN,TSCODE,TSENTT,TSJOB,TSPGM,TSCMPN,TSCONM,TSCOTY,TSCOS,TSLCAD,TSRCAD,TSLEP,TSREP,TSCORF,TSSAPH,TSAUTH,TSENCR,TSDHGR,TSENTL,TSESDL,length(TSTIME) FROM MYFILE WHERE TSSEQN=2")
[ "$row" = "2|M|TS|QTOVMAN|QTOVMAN|QTOVMAN|HRgw2FINgw:L1|*DYNAMIC|*STOPPED|10.6.0.0/16|10.196.8.0/24|192.0.2.227|198.51.100.250|1|2|*HMACSHA256|*AESCBC128|19|584|361|26" ] \
  || fail "outfile row: $row"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM MYFILE')" = 3 ] || fail "replace count"
expect_rc 0 JRN0007 DSPJRN 'JRN(QVPN)' 'OUTPUT(*OUTFILE)' 'OUTFILE(MYLIB/MYFILE)' 'OUTMBR(*FIRST *ADD)'
[ "$(sqlite3 "$db" 'SELECT count(*) FROM MYFILE')" = 6 ] || fail "*ADD count"
expect_rc 1 JRN0006 DSPJRN 'JRN(QIPFILTER)' 'OUTPUT(*OUTFILE)' 'OUTFILE(MYLIB/MYFILE)'
expect_rc 1 JRN0008 DSPJRN 'JRN(QVPN)' 'OUTPUT(*OUTFILE)'
expect_rc 1 JRN0005 DSPJRN 'JRN(QVPN)' 'OUTPUT(*OUTFILE)' 'OUTFILE(1LIB/X)'

# QIPFILTER's outfile.
expect_rc 0 JRN0007 DSPJRN 'JRN(QIPFILTER)' 'JRNCDE((M))' 'ENTTYP((TF))' 'OUTPUT(*OUTFILE)' \
  'OUTFILE(MYLIB/FILTERS)'
row=$(sqlite3 -separator '|' "$db" "SELECT TFSEQN,TFCODE,TFENTT,TFLINE,TFREVT,TFPDIR,TFRNUM,TFACT,TFPROT,TFSRCA,TFDSTA FROM FILTERS ORDER BY TFSEQN LIMIT 1")
[ "$row" = "1|M|TF|TRLINE|A|O|1|IPSEC|1|10.6.11.1|10.196.8.5" ] || fail "TF row: $row"
pass
