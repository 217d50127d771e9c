#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "journal/outfile.hpp"

using namespace qvpn;
using namespace qvpn::journal;

namespace {

struct Root {
    std::filesystem::path dir;
    Root() {
        static int n = 0;
        dir = std::filesystem::temp_directory_path() /
              ("qvpn-out-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        ::setenv("QVPN_ROOT", dir.c_str(), 1);
    }
    ~Root() { std::filesystem::remove_all(dir); }
};

Entry ts_entry(int64_t seq, const std::string& conn) {
    Entry e;
    e.header.seq = seq;
    e.header.type = "TS";
    e.header.time = "2026-12-03-17.40.01.123456";
    e.header.origin = {"QTOVMAN", "QTCP", 77, "QTOVMAN", "QTCP"};
    e.header.system = "SYSTEMA";
    TsEntry t;
    t.cmpn = "QTOVMAN";
    t.conm = conn;
    t.cos = "*ENABLED";
    t.lep = "192.0.2.227";
    t.rep = "198.51.100.250";
    t.lcad = "10.6.0.0/16";
    t.rcad = "10.196.8.0/24";
    e.data = t;
    return e;
}

}  // namespace

BOOST_AUTO_TEST_CASE(object_names) {
    BOOST_TEST(*object_name("mylib", "OUTFILE") == "MYLIB");
    BOOST_TEST(*object_name("$A_1", "OUTFILE") == "$A_1");
    BOOST_TEST(object_name("1ABC", "OUTFILE").error().id == "JRN0005");
    BOOST_TEST(object_name("ABCDEFGHIJK", "OUTFILE").error().id == "JRN0005");
    BOOST_TEST(object_name("a/b", "OUTFILE").error().id == "JRN0005");
    BOOST_TEST(object_name("x\"y", "OUTFILE").error().id == "JRN0005");
}

BOOST_AUTO_TEST_CASE(outfile_has_the_seed_field_names_and_values) {
    Root r;
    std::vector<Entry> es = {ts_entry(1, "HRgw2FINgw:L1"), ts_entry(2, "HRgw2FINgw:L1")};
    BOOST_REQUIRE(write_outfile(Journal::Qvpn, es, "MYLIB", "MYFILE", true).ok());
    auto cols = outfile_columns("MYLIB", "MYFILE");
    BOOST_REQUIRE(cols.ok());
    const auto& defs = fields(Journal::Qvpn);
    BOOST_REQUIRE(cols->size() == defs.size());
    for (size_t i = 0; i < defs.size(); ++i) {
        BOOST_TEST((*cols)[i] == std::string(defs[i].name));
    }
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open((r.dir / "lib/MYLIB.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db,
                                     "SELECT TSSEQN, TSCODE, TSENTT, TSCONM, TSLEP, TSREP, "
                                     "TSENTL, TSESDL, TSNBR, TSSYNM FROM MYFILE ORDER BY TSSEQN",
                                     -1, &st, nullptr) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    BOOST_TEST(sqlite3_column_int(st, 0) == 1);
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 1)) == "M");
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 2)) == "TS");
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 3)) == "HRgw2FINgw:L1");
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 4)) == "192.0.2.227");
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 5)) == "198.51.100.250");
    BOOST_TEST(sqlite3_column_int(st, 6) == 584);  // 223 header + 361 specific bytes
    BOOST_TEST(sqlite3_column_int(st, 7) == 361);
    BOOST_TEST(sqlite3_column_int(st, 8) == 77);
    BOOST_TEST(std::string((const char*)sqlite3_column_text(st, 9)) == "SYSTEMA");
    BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    BOOST_TEST(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);

    // *ADD appends, *REPLACE empties first.
    BOOST_REQUIRE(write_outfile(Journal::Qvpn, es, "MYLIB", "MYFILE", false).ok());
    BOOST_REQUIRE(write_outfile(Journal::Qvpn, {es[0]}, "MYLIB", "MYFILE2", true).ok());
    // A TF layout cannot go into a TS file.
    Entry tf;
    tf.header.type = "TF";
    tf.data = TfEntry{};
    BOOST_TEST(write_outfile(Journal::Qipfilter, {tf}, "MYLIB", "MYFILE", false).error().id ==
               "JRN0006");
}

BOOST_AUTO_TEST_CASE(qipfilter_outfile_fields) {
    Root r;
    Entry e;
    e.header.seq = 9;
    e.header.type = "TF";
    TfEntry t;
    t.line = "TRLINE";
    t.revt = "A";
    t.pdir = "O";
    t.rnum = "3";
    t.act = "IPSEC";
    t.prot = "1";
    t.srca = "10.6.1.5";
    t.dsta = "10.196.8.9";
    t.text = "HRgw2FINgw:L1";
    e.data = t;
    BOOST_REQUIRE(write_outfile(Journal::Qipfilter, {e}, "QGPL", "FILTERS", true).ok());
    auto cols = outfile_columns("QGPL", "FILTERS");
    BOOST_REQUIRE(cols->size() == 25u);
    BOOST_TEST(cols->at(14) == "TFLINE");
    BOOST_TEST(cols->at(24) == "TFTEXT");
}

BOOST_AUTO_TEST_CASE(csv_and_json_forms) {
    std::vector<Entry> es = {ts_entry(5, "A,\"b\"")};
    std::string csv = to_csv(Journal::Qvpn, es);
    BOOST_TEST(csv.rfind("TSENTL,TSSEQN,TSCODE,TSENTT,TSTIME,", 0) == 0);
    BOOST_TEST(csv.find("\"A,\"\"b\"\"\"") != std::string::npos);
    auto j = to_json(Journal::Qvpn, es);
    BOOST_REQUIRE(j.size() == 1u);
    BOOST_TEST(j[0]["TSSEQN"] == 5);
    BOOST_TEST(j[0]["TSCONM"] == "A,\"b\"");
    BOOST_TEST(j[0]["TSCODE"] == "M");
    BOOST_TEST(j[0].size() == fields(Journal::Qvpn).size());
}
