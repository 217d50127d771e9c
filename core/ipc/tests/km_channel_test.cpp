#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "core/ipc/km_channel.hpp"

using namespace qvpn;
using namespace qvpn::ipc;

BOOST_AUTO_TEST_CASE(control_round_trip) {
    nlohmann::json j = {{"op", "hello"}, {"job", "QTOKVPNIK2"}, {"ike_version", 2}};
    Bytes b = encode_control(j);
    BOOST_TEST(b[0] == 'J');
    auto m = decode_km(b);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(m->is_control());
    BOOST_TEST(m->control == j);
}

BOOST_AUTO_TEST_CASE(packet_header_layout_v4) {
    PacketHeader h;
    h.local = *IpAddress::parse("192.0.2.227");
    h.local_port = 500;
    h.remote = *IpAddress::parse("198.51.100.250");
    h.remote_port = 4500;
    h.non_esp_marker = true;
    Bytes ike = {0xde, 0xad};
    Bytes b = encode_packet(h, ike);
    // tag + 38-byte header + payload, fields big-endian at fixed offsets.
    BOOST_REQUIRE(b.size() == 1 + kPacketHeaderBytes + 2);
    BOOST_TEST(b[0] == 'P');
    BOOST_TEST(b[1] == 4);
    BOOST_TEST(b[2] == 192);
    BOOST_TEST(b[5] == 227);
    BOOST_TEST(b[6] == 0);  // rest of the 16-byte slot is zero
    BOOST_TEST(b[18] == 0x01);
    BOOST_TEST(b[19] == 0xf4);  // 500
    BOOST_TEST(b[20] == 198);
    BOOST_TEST(b[36] == 0x11);
    BOOST_TEST(b[37] == 0x94);  // 4500
    BOOST_TEST(b[38] == 0x01);
    BOOST_TEST(b[39] == 0xde);
    auto m = decode_km(b);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(!m->is_control());
    BOOST_TEST((m->header == h));
    BOOST_TEST(m->payload == ike);
}

BOOST_AUTO_TEST_CASE(packet_header_v6) {
    PacketHeader h;
    h.local = *IpAddress::parse("2001:db8::1");
    h.local_port = 4500;
    h.remote = *IpAddress::parse("2001:db8::2");
    h.remote_port = 61234;
    Bytes b = encode_packet(h, {});
    auto m = decode_km(b);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST((m->header == h));
    BOOST_TEST(m->header.local.is_v6());
    BOOST_TEST(m->payload.empty());
}

BOOST_AUTO_TEST_CASE(malformed_messages) {
    BOOST_TEST(decode_km(Bytes{}).error().id == "IPC0003");
    BOOST_TEST(decode_km(Bytes{'X', 1}).error().id == "IPC0003");
    Bytes not_obj = {'J', '[', ']'};
    BOOST_TEST(decode_km(not_obj).error().id == "IPC0003");
    Bytes no_op = encode_control({{"x", 1}});
    BOOST_TEST(decode_km(no_op).error().id == "IPC0003");
    // Every header length short of 38 bytes fails.
    PacketHeader h;
    h.local = *IpAddress::parse("192.0.2.1");
    h.remote = *IpAddress::parse("192.0.2.2");
    Bytes full = encode_packet(h, {});
    for (size_t n = 1; n < full.size(); ++n) {
        Bytes cut(full.begin(), full.begin() + static_cast<long>(n));
        BOOST_TEST(decode_km(cut).error().id == "IPC0003");
    }
    Bytes bad_family = full;
    bad_family[1] = 5;
    BOOST_TEST(decode_km(bad_family).error().id == "IPC0003");
}

BOOST_AUTO_TEST_CASE(seqpacket_keeps_boundaries) {
    auto pair = km_socketpair();
    BOOST_REQUIRE(pair.ok());
    auto [a, b] = *pair;
    BOOST_REQUIRE(km_send(a, encode_control({{"op", "status"}})).ok());
    PacketHeader h;
    h.local = *IpAddress::parse("192.0.2.1");
    h.remote = *IpAddress::parse("192.0.2.2");
    Bytes big(60000, 0xab);
    BOOST_REQUIRE(km_send(a, encode_packet(h, big)).ok());
    auto m1 = km_recv(b);
    BOOST_REQUIRE(m1.ok());
    BOOST_REQUIRE(m1->has_value());
    BOOST_TEST(decode_km(**m1)->control["op"] == "status");
    auto m2 = km_recv(b);
    BOOST_REQUIRE(m2.ok());
    BOOST_TEST(decode_km(**m2)->payload.size() == big.size());
    // Nothing waiting: EAGAIN, not end of stream.
    auto m3 = km_recv(b);
    BOOST_TEST(!m3.ok());
    BOOST_TEST(m3.error().sys_errno == EAGAIN);
    ::close(a);
    auto eof = km_recv(b);
    BOOST_REQUIRE(eof.ok());
    BOOST_TEST(!eof->has_value());
    ::close(b);
    BOOST_TEST(km_send(b, Bytes(kMaxKmMessage + 1)).error().id == "IPC0006");
}

BOOST_AUTO_TEST_CASE(fd_from_environment) {
    ::unsetenv(kIpcFdEnv);
    BOOST_TEST(km_fd_from_env().error().id == "IPC0003");
    auto pair = km_socketpair();
    BOOST_REQUIRE(pair.ok());
    ::setenv(kIpcFdEnv, std::to_string(pair->second).c_str(), 1);
    BOOST_TEST(*km_fd_from_env() == pair->second);
    ::setenv(kIpcFdEnv, "0", 1);  // stdin is not a seqpacket socket
    BOOST_TEST(!km_fd_from_env().ok());
    ::close(pair->first);
    ::close(pair->second);
    ::unsetenv(kIpcFdEnv);
}
