#include <boost/test/unit_test.hpp>

#include "daemon/ike/identity.hpp"
#include "daemon/ike/tests/test_util.hpp"

using namespace qvpn;
using namespace qvpn::ike;
using policy::Identity;
using PT = policy::IdType;
using qvpn::ike::test::b;
using qvpn::ike::test::h;
using qvpn::ike::test::hx;

BOOST_AUTO_TEST_SUITE(identity)

BOOST_AUTO_TEST_CASE(to_and_from_wire) {
    struct Case {
        Identity id;
        IdType wire;
        const char* data;
    } cases[] = {
        {{PT::IPv4, "192.0.2.7"}, IdType::ID_IPV4_ADDR, "c0000207"},
        {{PT::IPv6, "2001:db8::9"}, IdType::ID_IPV6_ADDR, "20010db8000000000000000000000009"},
        {{PT::Fqdn, "gw.example.com"}, IdType::ID_FQDN, "67772e6578616d706c652e636f6d"},
        {{PT::UserFqdn, "a@b.c"}, IdType::ID_RFC822_ADDR, "6140622e63"},
        {{PT::KeyId, "0A0B0C"}, IdType::ID_KEY_ID, "0a0b0c"},
    };
    for (const auto& c : cases) {
        auto w = to_wire(c.id);
        BOOST_REQUIRE(w.ok());
        BOOST_TEST((w->type == c.wire));
        BOOST_TEST(hx(w->data) == c.data);
        auto back = from_wire(*w);
        BOOST_REQUIRE(back.ok());
        BOOST_TEST((back->type == c.id.type));
        BOOST_TEST(back->value == c.id.value);
    }
}

BOOST_AUTO_TEST_CASE(dn_text_and_der) {
    // DER of C=US, O=Example, CN=gw1 built independently (PrintableString C,
    // UTF8String O and CN, as OpenSSL's default string mask chooses).
    auto der = dn_from_text("C=US, O=Example, CN=gw1");
    BOOST_REQUIRE(der.ok());
    BOOST_TEST(hx(*der) ==
               "302d310b3009060355040613025553"
               "3110300e060355040a0c074578616d706c65"
               "310c300a06035504030c03677731");
    auto text = dn_to_text(*der);
    BOOST_REQUIRE(text.ok());
    BOOST_TEST(*text == "C=US, O=Example, CN=gw1");

    auto w = to_wire({PT::Dn, "/C=US/O=Example/CN=gw1"});
    BOOST_REQUIRE(w.ok());
    BOOST_TEST((w->type == IdType::ID_DER_ASN1_DN));
    BOOST_TEST(hx(w->data) == hx(*der));
    BOOST_TEST(from_wire(*w)->value == "C=US, O=Example, CN=gw1");
}

BOOST_AUTO_TEST_CASE(dn_escaping_round_trip) {
    std::string text = "O=Smith\\, Jones \\+ Co, OU=a\\=b, CN=\\ lead";
    auto der = dn_from_text(text);
    BOOST_REQUIRE(der.ok());
    auto back = dn_to_text(*der);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(*back == text);
    BOOST_TEST(hx(*dn_from_text(*back)) == hx(*der));
    // Multi-valued RDN.
    auto multi = dn_from_text("O=Org, CN=a + UID=b");
    BOOST_REQUIRE(multi.ok());
    BOOST_TEST(*dn_to_text(*multi) == "O=Org, CN=a + UID=b");
    // Quoted value.
    BOOST_TEST(*dn_to_text(*dn_from_text("CN=\"x, y\"")) == "CN=x\\, y");
}

BOOST_AUTO_TEST_CASE(dn_errors) {
    for (const char* bad : {"", "   ", "CN", "=x", "XYZZY=1", "CN=", "C=USA", "C=US,,CN=x"}) {
        auto r = dn_from_text(bad);
        BOOST_TEST_CONTEXT(bad) {
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "IKE0132");
        }
    }
    auto r = dn_to_text(b("not DER"));
    BOOST_TEST(r.error().id == "IKE0133");
    auto der = *dn_from_text("CN=x");
    der.push_back(0);
    BOOST_TEST(dn_to_text(der).error().id == "IKE0133");
}

BOOST_AUTO_TEST_CASE(to_wire_errors) {
    for (Identity id : {Identity{PT::IPv4, "2001:db8::1"}, Identity{PT::IPv6, "192.0.2.1"},
                        Identity{PT::IPv4, "999.1.1.1"}, Identity{PT::Fqdn, ""},
                        Identity{PT::Fqdn, "a@b"}, Identity{PT::UserFqdn, "nobody"},
                        Identity{PT::UserFqdn, "x@"}, Identity{PT::KeyId, "abc"},
                        Identity{PT::KeyId, ""}, Identity{PT::AnyIp, ""}}) {
        auto r = to_wire(id);
        BOOST_TEST_CONTEXT(id.value) {
            BOOST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().id == "IKE0130");
        }
    }
    BOOST_TEST(to_wire({PT::Dn, "nonsense"}).error().id == "IKE0132");
}

BOOST_AUTO_TEST_CASE(from_wire_errors) {
    auto check = [](IdType t, Bytes data) {
        auto r = from_wire({t, std::move(data)});
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().id == "IKE0131");
        BOOST_TEST(r.error().notify == notify_code(NotifyType::INVALID_SYNTAX));
    };
    check(IdType::ID_IPV4_ADDR, h("c00002"));
    check(IdType::ID_IPV4_ADDR, h("c000020701"));
    check(IdType::ID_IPV6_ADDR, h("c0000207"));
    check(IdType::ID_FQDN, {});
    check(IdType::ID_FQDN, h("676700"));
    check(IdType::ID_RFC822_ADDR, h("0a"));
    check(IdType::ID_KEY_ID, {});
    check(IdType::ID_DER_ASN1_DN, b("junk"));
    check(IdType::ID_DER_ASN1_GN, h("3000"));
    check(static_cast<IdType>(4), h("00"));
}

BOOST_AUTO_TEST_CASE(matching_rules) {
    BOOST_TEST(identity_matches({PT::Fqdn, "GW.Example.com"}, {PT::Fqdn, "gw.example.COM"}));
    BOOST_TEST(identity_matches({PT::Fqdn, "gw.example.com."}, {PT::Fqdn, "gw.example.com"}));
    BOOST_TEST(!identity_matches({PT::Fqdn, "gw.example.com"}, {PT::Fqdn, "gw.example.org"}));
    BOOST_TEST(!identity_matches({PT::Fqdn, "gw.example.com"}, {PT::UserFqdn, "gw.example.com"}));
    BOOST_TEST(
        identity_matches({PT::UserFqdn, "Bob@EXAMPLE.com"}, {PT::UserFqdn, "Bob@example.COM"}));
    BOOST_TEST(
        !identity_matches({PT::UserFqdn, "Bob@example.com"}, {PT::UserFqdn, "bob@example.com"}));
    BOOST_TEST(identity_matches({PT::IPv6, "2001:db8::1"}, {PT::IPv6, "2001:db8:0:0::1"}));
    BOOST_TEST(!identity_matches({PT::IPv4, "192.0.2.1"}, {PT::IPv4, "192.0.2.2"}));
    BOOST_TEST(identity_matches({PT::AnyIp, ""}, {PT::IPv4, "198.51.100.4"}));
    BOOST_TEST(identity_matches({PT::AnyIp, ""}, {PT::IPv6, "2001:db8::5"}));
    BOOST_TEST(!identity_matches({PT::AnyIp, ""}, {PT::Fqdn, "host"}));
    BOOST_TEST(identity_matches({PT::KeyId, "0a0B"}, {PT::KeyId, "0A0B"}));
    BOOST_TEST(identity_matches({PT::Dn, "CN=gw1, O=Example, C=US"},
                                {PT::Dn, "C=US, O=example, CN=GW1"}));
    BOOST_TEST(!identity_matches({PT::Dn, "C=US, O=Example, CN=gw1"},
                                 {PT::Dn, "C=US, O=Example, CN=gw2"}));
    BOOST_TEST(!identity_matches({PT::Dn, "broken"}, {PT::Dn, "broken"}));
    BOOST_TEST(identity_text({PT::Fqdn, "gw"}) == "*FQDN:gw");
}

BOOST_AUTO_TEST_SUITE_END()
