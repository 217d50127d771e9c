// Test tool: append entries to a journal through the real writer, so the
// integration tests can check DSPJRN field by field before any connection
// can start.   journal_append QVPN|QIPFILTER <count>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "journal/journal.hpp"

using namespace qvpn::journal;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: journal_append QVPN|QIPFILTER count\n");
        return 2;
    }
    auto j = journal_from_name(argv[1]);
    int n = std::atoi(argv[2]);
    if (!j || n < 0) {
        return 2;
    }
    auto w = Writer::open(*j, Origin::current("QTOVMAN", "QTOVMAN"));
    if (!w.ok()) {
        std::fprintf(stderr, "%s\n", w.error().id.c_str());
        return 1;
    }
    for (int i = 0; i < n; ++i) {
        if (*j == Journal::Qvpn) {
            TsEntry e;
            e.cmpn = "QTOVMAN";
            e.conm = "HRgw2FINgw:L1";
            e.coty = "*DYNAMIC";
            e.cos = i % 2 == 0 ? "*ENABLED" : "*STOPPED";
            e.trpr = "*ANY";
            e.lcad = "10.6.0.0/16";
            e.lcpr = "*ANY";
            e.rcad = "10.196.8.0/24";
            e.cpr = "*ANY";
            e.lep = "192.0.2.227";
            e.rep = "198.51.100.250";
            e.corf = std::to_string(i);
            e.saph = "2";
            e.auth = "*HMACSHA256";
            e.encr = "*AESCBC128";
            e.dhgr = "19";
            if (!(*w)->append(e).ok()) {
                return 1;
            }
        } else {
            TfEntry e;
            e.line = "TRLINE";
            e.revt = "A";
            e.pdir = "O";
            e.rnum = std::to_string(i + 1);
            e.act = "IPSEC";
            e.prot = "1";
            e.srca = "10.6.11.1";
            e.dsta = "10.196.8.5";
            if (!(*w)->append(e).ok()) {
                return 1;
            }
        }
    }
    return 0;
}
