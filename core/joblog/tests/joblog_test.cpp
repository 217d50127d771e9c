#define BOOST_TEST_MODULE joblog
// The job log writer and reader: fields round trip, and the file stays
// within its size bound (one older generation kept, oldest entries dropped).
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "core/joblog/joblog.hpp"
#include "core/msg/catalog.hpp"

using namespace qvpn;

namespace {

struct TempRoot {
    std::filesystem::path dir;
    TempRoot() {
        static int n = 0;
        dir = std::filesystem::temp_directory_path() /
              ("qvpn-joblog-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        ::setenv("QVPN_ROOT", dir.c_str(), 1);
    }
    ~TempRoot() { std::filesystem::remove_all(dir); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(entry_fields_round_trip) {
    TempRoot root;
    {
        joblog::JobLog log("QTOVMAN");
        log.message(msg("TCP8601", "HRgw2FINgw:L1", 3),
                    {.conn = "HRgw2FINgw:L1", .peer = "198.51.100.250"});
        log.debug("conn", "not shown at the default level");
    }
    auto r = joblog::read("QTOVMAN");
    BOOST_REQUIRE(r.ok());
    BOOST_REQUIRE_EQUAL(r->size(), 1u);
    const auto& e = r->front();
    BOOST_TEST(e.msgid == "TCP8601");
    BOOST_TEST(e.severity == 30);
    BOOST_TEST(e.job == "QTOVMAN");
    BOOST_TEST(e.pid == ::getpid());
    BOOST_TEST(e.fields.conn == "HRgw2FINgw:L1");
    BOOST_TEST(e.fields.peer == "198.51.100.250");
    BOOST_TEST(e.text.find("HRgw2FINgw:L1, reason code 3") != std::string::npos);
    BOOST_REQUIRE_EQUAL(e.values.size(), 2u);
    BOOST_TEST(e.values[1] == "3");
    BOOST_TEST(e.time.size() == 27u);  // 2026-12-04T08:00:00.000000Z
}

BOOST_AUTO_TEST_CASE(size_bound_keeps_one_older_generation) {
    TempRoot root;
    constexpr size_t kLimit = 4096;
    constexpr int kWritten = 200;
    {
        joblog::JobLog log("QTOKVPNIK2", kLimit);
        for (int i = 0; i < kWritten; ++i) {
            std::string name = "CONN" + std::to_string(i);
            log.message(msg("VMN0014", name), {.conn = name});
        }
    }
    auto base = root.dir / "joblog" / "QTOKVPNIK2.log";
    BOOST_REQUIRE(std::filesystem::exists(base));
    BOOST_REQUIRE(std::filesystem::exists(base.string() + ".1"));
    BOOST_TEST(std::filesystem::file_size(base) <= kLimit);
    BOOST_TEST(std::filesystem::file_size(base.string() + ".1") <= kLimit);

    // Oldest first, the newest last, nothing torn, the oldest ones gone.
    auto r = joblog::read("QTOKVPNIK2");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->size() < static_cast<size_t>(kWritten));
    BOOST_TEST(r->size() > 10u);
    int prev = -1;
    for (const auto& e : *r) {
        BOOST_TEST(e.msgid == "VMN0014");
        int n = std::stoi(e.fields.conn.substr(4));
        BOOST_TEST((prev == -1 || n == prev + 1));
        prev = n;
    }
    BOOST_TEST(prev == kWritten - 1);
}
