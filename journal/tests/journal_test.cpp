#define BOOST_TEST_MODULE journal
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "journal/journal.hpp"

using namespace qvpn;
using namespace qvpn::journal;

namespace {

// Every test case gets its own state root.
struct TempRoot {
    std::filesystem::path dir;
    TempRoot() {
        static int n = 0;
        dir = std::filesystem::temp_directory_path() /
              ("qvpn-jrn-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        ::setenv("QVPN_ROOT", dir.c_str(), 1);
    }
    ~TempRoot() { std::filesystem::remove_all(dir); }
};

class FakeClock final : public Clock {
public:
    SteadyTime now() const override { return SteadyTime(std::chrono::microseconds(us)); }
    WallTime wall() const override { return WallTime(std::chrono::microseconds(us)); }
    int64_t us = 1764782401123456;  // 2025-12-03T17:20:01.123456Z
};

TsEntry sample_ts(const std::string& conn, const std::string& state) {
    TsEntry e;
    e.cmpn = "QTOVMAN";
    e.conm = conn;
    e.coty = "*DYNAMIC";
    e.cos = state;
    e.trpr = "*ANY";
    e.lcad = "10.6.0.0/16";
    e.rcad = "10.196.8.0/24";
    e.lcpr = e.cpr = "*ANY";
    e.lep = "192.0.2.227";
    e.rep = "198.51.100.250";
    e.corf = "0";
    e.saph = "2";
    e.auth = "*HMACSHA256";
    e.encr = "*AESCBC128";
    e.dhgr = "19";
    return e;
}

}  // namespace

BOOST_AUTO_TEST_CASE(names_and_paths) {
    TempRoot r;
    BOOST_TEST(journal_name(Journal::Qvpn) == "QVPN");
    BOOST_TEST(entry_type(Journal::Qipfilter) == "TF");
    BOOST_TEST((journal_from_name("qvpn") == Journal::Qvpn));
    BOOST_TEST((journal_from_name("QIPFILTER") == Journal::Qipfilter));
    BOOST_TEST(!journal_from_name("QAUDJRN").has_value());
    BOOST_TEST(db_path(Journal::Qvpn) == (r.dir / "journal/QVPN.db").string());
}

BOOST_AUTO_TEST_CASE(field_layouts_follow_the_seed) {
    const auto& ts = fields(Journal::Qvpn);
    std::vector<std::string> want = {
        "TSENTL", "TSSEQN", "TSCODE", "TSENTT", "TSTIME", "TSJOB",  "TSUSER", "TSNBR",
        "TSPGM",  "TSRES1", "TSUSPF", "TSSYNM", "TSRES2", "TSRESA", "TSESDL", "TSCMPN",
        "TSCONM", "TSCOTY", "TSCOS",  "TSCOSD", "TSCOST", "TSCOED", "TSCOET", "TSTRPR",
        "TSLCAD", "TSLCPR", "TSRCAD", "TSCPR",  "TSLEP",  "TSREP",  "TSCORF", "TSRFDA",
        "TSRFTI", "TSRFLS", "TSSAPH", "TSAUTH", "TSENCR", "TSDHGR", "TSERRC"};
    BOOST_REQUIRE(ts.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        BOOST_TEST(std::string(ts[i].name) == want[i]);
    }
    // Lengths as published: a few spot checks, and the numeric ones.
    BOOST_TEST(ts[16].length == 40);  // TSCONM
    BOOST_TEST(ts[24].length == 43);  // TSLCAD
    BOOST_TEST(ts[34].length == 1);   // TSSAPH
    BOOST_TEST(ts[0].numeric);
    BOOST_TEST(ts[1].numeric);
    BOOST_TEST(ts[7].numeric);
    BOOST_TEST(ts[14].numeric);
    BOOST_TEST(!ts[4].numeric);

    const auto& tf = fields(Journal::Qipfilter);
    std::vector<std::string> wtf = {
        "TFENTL", "TFSEQN", "TFCODE", "TFENTT", "TFTIME", "TFJOB",  "TFUSER", "TFNBR",
        "TFPGM",  "TFRES1", "TFUSPF", "TFSYMN", "TFRES2", "TFRESA", "TFLINE", "TFREVT",
        "TFPDIR", "TFRNUM", "TFACT",  "TFPROT", "TFSRCA", "TFSRCP", "TFDSTA", "TFDSTP",
        "TFTEXT"};
    BOOST_REQUIRE(tf.size() == wtf.size());
    for (size_t i = 0; i < wtf.size(); ++i) {
        BOOST_TEST(std::string(tf[i].name) == wtf[i]);
    }
    BOOST_TEST(tf.back().length == 76);
}

BOOST_AUTO_TEST_CASE(append_and_read_back_every_field) {
    TempRoot r;
    FakeClock clock;
    Origin o{"QTOVMAN", "QTCP", 4242, "QTOVMAN", "QTCP"};
    auto w = Writer::open(Journal::Qvpn, o, {}, &clock);
    BOOST_REQUIRE(w.ok());
    TsEntry e = sample_ts("HRgw2FINgw:L1", "*ENABLED");
    e.cosd = date8(clock.us);
    e.cost = time6(clock.us);
    auto s1 = (*w)->append(e, "ALICE");
    BOOST_REQUIRE(s1.ok());
    clock.us += 1000000;
    auto s2 = (*w)->append(sample_ts("HRgw2FINgw:L1", "*STOPPED"));
    BOOST_REQUIRE(s2.ok());
    BOOST_TEST(*s2 == *s1 + 1);

    auto all = read(Journal::Qvpn, {});
    BOOST_REQUIRE(all.ok());
    BOOST_REQUIRE(all->size() == 2u);
    const Entry& a = (*all)[0];
    BOOST_TEST(a.header.seq == *s1);
    BOOST_TEST(a.header.code == 'M');
    BOOST_TEST(a.header.type == "TS");
    BOOST_TEST(a.header.time == saa_timestamp(clock.us - 1000000));
    BOOST_TEST(a.header.time.size() == 26u);
    BOOST_TEST(a.header.origin.job == "QTOVMAN");
    BOOST_TEST(a.header.origin.job_number == 4242);
    BOOST_TEST(a.header.origin.user_profile == "ALICE");
    BOOST_TEST(!a.header.system.empty());
    BOOST_TEST(a.header.system.size() <= 8u);
    BOOST_REQUIRE(a.ts() != nullptr);
    BOOST_TEST((*a.ts() == e));
    BOOST_TEST((*all)[1].header.origin.user_profile == "QTCP");
    BOOST_TEST((*all)[1].ts()->cos == "*STOPPED");

    // TS entries do not go into QIPFILTER and TF entries not into QVPN.
    BOOST_TEST((*w)->append(TfEntry{}).error().id == "JRN0003");
}

BOOST_AUTO_TEST_CASE(selection_by_time_type_sequence_and_job) {
    TempRoot r;
    FakeClock clock;
    auto w = Writer::open(Journal::Qvpn, Origin{"QTOVMAN", "QTCP", 1, "QTOVMAN", "QTCP"}, {},
                          &clock);
    BOOST_REQUIRE(w.ok());
    int64_t t0 = clock.us;
    for (int i = 0; i < 10; ++i) {
        BOOST_REQUIRE((*w)->append(sample_ts("C" + std::to_string(i), "*ENABLED")).ok());
        clock.us += 60 * 1000000LL;
    }
    Selection s;
    s.from_time_us = t0 + 120 * 1000000LL;
    s.to_time_us = t0 + 300 * 1000000LL;
    auto r1 = read(Journal::Qvpn, s);
    BOOST_REQUIRE(r1.ok());
    BOOST_REQUIRE(r1->size() == 4u);
    BOOST_TEST(r1->front().ts()->conm == "C2");
    BOOST_TEST(r1->back().ts()->conm == "C5");

    Selection types;
    types.entry_types = {"TF"};
    BOOST_TEST(read(Journal::Qvpn, types)->empty());
    types.entry_types = {"ts"};
    BOOST_TEST(read(Journal::Qvpn, types)->size() == 10u);

    Selection codes;
    codes.codes = {'J'};
    BOOST_TEST(read(Journal::Qvpn, codes)->empty());
    codes.codes = {'M'};
    BOOST_TEST(read(Journal::Qvpn, codes)->size() == 10u);

    Selection seq;
    seq.from_seq = 3;
    seq.to_seq = 4;
    BOOST_TEST(read(Journal::Qvpn, seq)->size() == 2u);
    seq.max_entries = 1;
    BOOST_TEST(read(Journal::Qvpn, seq)->size() == 1u);

    Selection job;
    job.job = "qtovman";
    BOOST_TEST(read(Journal::Qvpn, job)->size() == 10u);
    job.job = "OTHER";
    BOOST_TEST(read(Journal::Qvpn, job)->empty());
}

BOOST_AUTO_TEST_CASE(never_written_journal_reads_empty) {
    TempRoot r;
    auto e = read(Journal::Qipfilter, {});
    BOOST_REQUIRE(e.ok());
    BOOST_TEST(e->empty());
}

BOOST_AUTO_TEST_CASE(batch_is_one_transaction_and_sequence_grows) {
    TempRoot r;
    auto w = Writer::open(Journal::Qipfilter, Origin::current("QTOIPFJRN", "QTOIPFJRN"));
    BOOST_REQUIRE(w.ok());
    std::vector<TfEntry> batch;
    for (int i = 0; i < 100; ++i) {
        TfEntry t;
        t.line = "TRLINE";
        t.revt = "A";
        t.pdir = i % 2 ? "I" : "O";
        t.rnum = std::to_string(i);
        t.act = "PERMIT";
        t.prot = "1";
        t.srca = "10.6.1.5";
        t.dsta = "10.196.8.9";
        batch.push_back(t);
    }
    auto last = (*w)->append_batch(batch);
    BOOST_REQUIRE(last.ok());
    BOOST_TEST(*last == 100);
    BOOST_TEST(*(*w)->append_batch({}) == 0);
    auto all = read(Journal::Qipfilter, {});
    BOOST_REQUIRE(all->size() == 100u);
    BOOST_TEST((*all)[99].tf()->rnum == "99");
    BOOST_TEST((*all)[0].header.type == "TF");
    BOOST_TEST((*w)->append(TsEntry{}).error().id == "JRN0003");
}

BOOST_AUTO_TEST_CASE(retention_by_age_and_count_keeps_sequence) {
    TempRoot r;
    FakeClock clock;
    Origin o{"QTOVMAN", "QTCP", 1, "QTOVMAN", "QTCP"};
    {
        auto w = Writer::open(Journal::Qvpn, o, {0, 0}, &clock);
        for (int i = 0; i < 20; ++i) {
            BOOST_REQUIRE((*w)->append(sample_ts("OLD", "*ENABLED")).ok());
        }
    }
    clock.us += 40LL * 86400 * 1000000;
    {
        // Reopening with 30 days removes the 40-day-old entries.
        auto w = Writer::open(Journal::Qvpn, o, {30, 5}, &clock);
        BOOST_REQUIRE(w.ok());
        BOOST_TEST(read(Journal::Qvpn, {})->empty());
        for (int i = 0; i < 8; ++i) {
            BOOST_REQUIRE((*w)->append(sample_ts("NEW" + std::to_string(i), "*ENABLED")).ok());
        }
        auto removed = (*w)->apply_retention();
        BOOST_REQUIRE(removed.ok());
        BOOST_TEST(*removed == 3);
    }
    auto all = read(Journal::Qvpn, {});
    BOOST_REQUIRE(all->size() == 5u);
    // Sequence numbers are never reused: the first new entry was 21.
    BOOST_TEST(all->front().header.seq == 24);
    BOOST_TEST(all->front().ts()->conm == "NEW3");
}

BOOST_AUTO_TEST_CASE(committed_entries_survive_a_killed_writer) {
    TempRoot r;
    // A child appends and dies without closing anything (SIGKILL-like _exit
    // skips destructors); every entry it reported as written is there.
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto w = Writer::open(Journal::Qvpn, Origin::current("QTOVMAN", "QTOVMAN"));
        if (!w.ok()) {
            ::_exit(2);
        }
        for (int i = 0; i < 50; ++i) {
            if (!(*w)->append(sample_ts("K", "*ENABLED")).ok()) {
                ::_exit(3);
            }
        }
        ::kill(::getpid(), SIGKILL);
        ::_exit(4);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(WIFSIGNALED(status));
    auto all = read(Journal::Qvpn, {});
    BOOST_REQUIRE(all.ok());
    BOOST_TEST(all->size() == 50u);
    // And a new writer continues the sequence.
    auto w = Writer::open(Journal::Qvpn, Origin::current("QTOVMAN", "QTOVMAN"));
    BOOST_TEST(*(*w)->append(sample_ts("K", "*STOPPED")) == 51);
}

BOOST_AUTO_TEST_CASE(timestamp_forms) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    int64_t t = 1764782401123456;  // 2025-12-03T17:20:01.123456Z
    BOOST_TEST(saa_timestamp(t) == "2025-12-03-17.20.01.123456");
    BOOST_TEST(date8(t) == "20251203");
    BOOST_TEST(time6(t) == "172001");
}
