#define BOOST_TEST_MODULE core_cl
#include <boost/test/unit_test.hpp>

#include "core/cl/parser.hpp"

using namespace qvpn;
using namespace qvpn::cl;

BOOST_AUTO_TEST_CASE(keyword_and_positional_forms) {
    auto r = parse_command("strvpncnn CNN(HRgw2FINgw) WAIT(*NOWAIT)");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->command == "STRVPNCNN");
    BOOST_REQUIRE(r->args.size() == 2u);
    BOOST_TEST(r->args[0].keyword == "CNN");
    BOOST_REQUIRE(r->args[0].value.is_list);
    BOOST_TEST(r->args[0].value.items[0].atom == "HRgw2FINgw");  // stored as typed
    BOOST_TEST(r->args[1].value.items[0].is_special());

    auto p = parse_parameters("HRgw2FINgw 60");
    BOOST_REQUIRE(p.ok());
    BOOST_TEST(p->args.size() == 2u);
    BOOST_TEST(p->args[0].keyword.empty());
}

BOOST_AUTO_TEST_CASE(keywords_are_case_insensitive) {
    auto r = parse_parameters("cnn(X) Wait(5)");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->args[0].keyword == "CNN");
    BOOST_TEST(r->args[1].keyword == "WAIT");
}

BOOST_AUTO_TEST_CASE(quoted_strings_with_doubled_apostrophes) {
    auto r = parse_parameters("TEXT('it''s a (test)') PSK('')");
    BOOST_REQUIRE(r.ok());
    const Value& t = r->args[0].value.items[0];
    BOOST_TEST(t.quoted);
    BOOST_TEST(t.atom == "it's a (test)");
    BOOST_TEST(r->args[1].value.items[0].atom.empty());
    BOOST_TEST(r->args[1].value.items[0].quoted);
    BOOST_TEST(t.to_cl() == "'it''s a (test)'");
}

BOOST_AUTO_TEST_CASE(nested_lists) {
    auto r = parse_parameters("KEYTFM((*AESCBC128 *SHA256 *GRP19) (*AESCBC128 *SHA256 *GRP14))");
    BOOST_REQUIRE(r.ok());
    const Value& v = r->args[0].value;
    BOOST_REQUIRE(v.items.size() == 2u);
    BOOST_TEST(v.items[1].is_list);
    BOOST_TEST(v.items[1].items[2].atom == "*GRP14");
    BOOST_TEST(v.to_cl() == "((*AESCBC128 *SHA256 *GRP19) (*AESCBC128 *SHA256 *GRP14))");
}

BOOST_AUTO_TEST_CASE(syntax_errors_have_positions) {
    const char* bad[] = {"CNN(X", "CNN(X))", "TEXT('open", "A(b)c", "X('a'b)", "x'y"};
    for (const char* b : bad) {
        BOOST_TEST_CONTEXT(b) {
            auto r = parse_parameters(b);
            BOOST_TEST(!r.ok());
            if (!r.ok()) {
                BOOST_TEST(r.error().id == "CPD0081");
            }
        }
    }
    BOOST_TEST(!parse_command("").ok());
    BOOST_TEST(!parse_command("(X)").ok());
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused) {
    std::string deep = "X" + std::string(50, '(') + std::string(50, ')');
    BOOST_TEST(!parse_parameters(deep).ok());
}

BOOST_AUTO_TEST_CASE(quote_if_needed_round_trip) {
    BOOST_TEST(quote_if_needed("plain") == "plain");
    BOOST_TEST(quote_if_needed("two words") == "'two words'");
    BOOST_TEST(quote_if_needed("it's") == "'it''s'");
    BOOST_TEST(quote_if_needed("") == "''");
}
