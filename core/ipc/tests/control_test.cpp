#define BOOST_TEST_MODULE core_ipc
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/ipc/control.hpp"

using namespace qvpn;
using namespace qvpn::ipc;
using namespace std::chrono_literals;

namespace {

std::string temp_socket(const char* name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("qvpn-ipc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

// A one-shot server: accept one client, read its line, answer with `answer`.
void serve_once(int lfd, std::string answer, std::string* seen) {
    int c = -1;
    for (int i = 0; i < 500 && c < 0; ++i) {
        c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            std::this_thread::sleep_for(5ms);
        }
    }
    if (c < 0) {
        return;
    }
    LineBuffer lb;
    char buf[4096];
    for (;;) {
        if (auto l = lb.next_line()) {
            *seen = *l;
            break;
        }
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        lb.append(std::string_view(buf, static_cast<size_t>(n)));
    }
    if (!answer.empty()) {
        (void)write_all(c, answer, 1000ms);
    }
    ::close(c);
}

}  // namespace

BOOST_AUTO_TEST_CASE(reply_round_trip) {
    Reply r = Reply::failure({msg("TCP8606", "HRgw2FINgw", "8306"), msg("TCP8601", "HRgw2FINgw", 3)});
    auto j = r.to_json();
    BOOST_TEST(j["v"] == 1);
    BOOST_TEST(j["ok"] == false);
    BOOST_TEST(j["msgs"][1]["msgid"] == "TCP8601");
    BOOST_TEST(j["msgs"][1]["values"][1] == "3");
    BOOST_TEST(!j.contains("data"));
    auto back = Reply::from_json(j);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(!back->ok);
    BOOST_REQUIRE(back->msgs.size() == 2u);
    BOOST_TEST(back->msgs[0].id == "TCP8606");
    BOOST_TEST(back->msgs[0].values[1] == "8306");

    Reply s = Reply::success({}, {{"state", "*ENABLED"}});
    auto sj = Reply::from_json(s.to_json());
    BOOST_REQUIRE(sj.ok());
    BOOST_TEST(sj->data["state"] == "*ENABLED");
}

BOOST_AUTO_TEST_CASE(reply_rejects_bad_shapes) {
    BOOST_TEST(Reply::from_json(nlohmann::json::array()).error().id == "IPC0003");
    BOOST_TEST(Reply::from_json({{"v", 1}}).error().id == "IPC0003");
    BOOST_TEST(Reply::from_json({{"v", 2}, {"ok", true}}).error().id == "IPC0004");
    BOOST_TEST(Reply::from_json({{"v", 1}, {"ok", true}, {"msgs", 5}}).error().id == "IPC0003");
    BOOST_TEST(Reply::from_json({{"v", 1}, {"ok", true}, {"msgs", {{{"x", 1}}}}}).error().id ==
               "IPC0003");
}

BOOST_AUTO_TEST_CASE(request_parsing) {
    auto ok = parse_request(R"({"v":1,"op":"start","conn":"HRgw2FINgw","wait":30})");
    BOOST_REQUIRE(ok.ok());
    BOOST_TEST((*ok)["conn"] == "HRgw2FINgw");
    BOOST_TEST(parse_request("not json").error().id == "IPC0003");
    BOOST_TEST(parse_request("[1]").error().id == "IPC0003");
    BOOST_TEST(parse_request(R"({"op":"ping"})").error().id == "IPC0003");
    BOOST_TEST(parse_request(R"({"v":9,"op":"ping"})").error().id == "IPC0004");
    BOOST_TEST(parse_request(R"({"v":1,"op":7})").error().id == "IPC0003");
}

BOOST_AUTO_TEST_CASE(changing_ops) {
    BOOST_TEST(op_changes_state("start"));
    BOOST_TEST(op_changes_state("end"));
    BOOST_TEST(op_changes_state("reset"));
    BOOST_TEST(op_changes_state("shutdown"));
    BOOST_TEST(!op_changes_state("ping"));
    BOOST_TEST(!op_changes_state("status"));
    BOOST_TEST(!op_changes_state("sa_list"));
}

BOOST_AUTO_TEST_CASE(line_buffer_splits_and_bounds) {
    LineBuffer lb(10);
    lb.append("ab");
    BOOST_TEST(!lb.next_line().has_value());
    lb.append("c\r\nde\nf");
    BOOST_TEST(*lb.next_line() == "abc");
    BOOST_TEST(*lb.next_line() == "de");
    BOOST_TEST(!lb.next_line().has_value());
    lb.append("0123456789x");
    BOOST_TEST(!lb.next_line().has_value());
    BOOST_TEST(lb.overflow());
}

BOOST_AUTO_TEST_CASE(client_server_over_a_real_socket) {
    std::string path = temp_socket("c1.sock");
    auto lfd = listen_control(path);
    BOOST_REQUIRE(lfd.ok());
    bool others = (std::filesystem::status(path).permissions() &
                   std::filesystem::perms::others_all) != std::filesystem::perms::none;
    BOOST_TEST(!others);
    std::string seen;
    std::thread t(serve_once, *lfd, Reply::success({msg("TCP8601", "X", 0)}).to_json().dump() + "\n",
                  &seen);
    auto r = request(path, {{"op", "ping"}}, 2000ms);
    t.join();
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->ok);
    BOOST_TEST(r->msgs.at(0).id == "TCP8601");
    auto sent = nlohmann::json::parse(seen);
    BOOST_TEST(sent["v"] == 1);
    BOOST_TEST(sent["op"] == "ping");
    ::close(*lfd);
}

BOOST_AUTO_TEST_CASE(client_reports_server_down_and_timeouts) {
    std::string path = temp_socket("absent.sock");
    std::filesystem::remove(path);
    BOOST_TEST(request(path, {{"op", "ping"}}, 500ms).error().id == "IPC0001");

    // A server that reads but never answers: IPC0002.
    std::string p2 = temp_socket("silent.sock");
    auto lfd = listen_control(p2);
    BOOST_REQUIRE(lfd.ok());
    std::string seen;
    std::thread t([&] {
        int c = -1;
        for (int i = 0; i < 500 && c < 0; ++i) {
            c = ::accept4(*lfd, nullptr, nullptr, SOCK_CLOEXEC);
            std::this_thread::sleep_for(2ms);
        }
        std::this_thread::sleep_for(600ms);
        ::close(c);
    });
    auto r = request(p2, {{"op", "ping"}}, 300ms);
    t.join();
    BOOST_TEST(r.error().id == "IPC0002");

    // A server that closes without a word: the server went away.
    std::thread t2(serve_once, *lfd, std::string(), &seen);
    auto r2 = request(p2, {{"op", "ping"}}, 2000ms);
    t2.join();
    BOOST_TEST(r2.error().id == "IPC0001");
    ::close(*lfd);
}

BOOST_AUTO_TEST_CASE(peer_credentials) {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    auto p = peer_of(sv[0]);
    BOOST_REQUIRE(p.ok());
    BOOST_TEST(p->pid == ::getpid());
    BOOST_TEST(p->uid == ::getuid());
    BOOST_TEST(p->has_iosyscfg() == (::getuid() == 0 || p->has_iosyscfg()));
    PeerCred nobody;
    nobody.uid = 65534;
    nobody.gid = 65534;
    BOOST_TEST(!nobody.has_iosyscfg());
    PeerCred root;
    BOOST_TEST(root.has_iosyscfg());
    ::close(sv[0]);
    ::close(sv[1]);
}
