#include <boost/test/unit_test.hpp>

#include "core/msg/catalog.hpp"

using namespace qvpn;
using namespace qvpn::msgcat;

extern "C" const char* const qvpn_catalog_text;

BOOST_AUTO_TEST_CASE(builtin_catalog_is_clean) {
    std::vector<std::string> problems;
    Catalog::parse(qvpn_catalog_text, &problems);
    for (const auto& p : problems) {
        BOOST_ERROR(p);
    }
    // The joined catalog of the whole tree parses without duplicates or
    // malformed blocks; a problem here names the file and line.
    const Catalog& c = builtin();
    BOOST_TEST(c.find("TCP8050") != nullptr);
    BOOST_TEST(c.find("CPF0001") != nullptr);
    for (const auto& [id, d] : c.all()) {
        BOOST_TEST_CONTEXT(id) {
            BOOST_TEST(valid_id(id));
            BOOST_TEST(!d.text.empty());
            BOOST_TEST(!d.cause.empty());
            BOOST_TEST(!d.recovery.empty());
            BOOST_TEST((d.severity == 0 || d.severity == 10 || d.severity == 20 ||
                        d.severity == 30 || d.severity == 40));
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_reports_problems) {
    std::vector<std::string> problems;
    Catalog c = Catalog::parse(
        "MSG ABC0001\nSEV 10\nTEXT first &1\n  continued\nCAUSE c\nRECOVERY r\n"
        "MSG ABC0001\nTEXT dup\n"
        "MSG bad\nTEXT x\n"
        "MSG ABC0002\nSEV 20\n",
        &problems);
    // duplicate, bad ID, TEXT outside a block, ABC0002 without TEXT
    BOOST_TEST(problems.size() == 4u);
    const MessageDef* d = c.find("ABC0001");
    BOOST_REQUIRE(d != nullptr);
    BOOST_TEST(d->text == "first &1 continued");
    BOOST_TEST(d->severity == 10);
    BOOST_TEST(c.find("ABC0002") == nullptr);
}

BOOST_AUTO_TEST_CASE(substitution) {
    BOOST_TEST(substitute("a &1 b &2 c &10", {"x", "y"}) == "a x b y c ");
    BOOST_TEST(substitute("&&1", {"v"}) == "&v");
    BOOST_TEST(line(msg("TCP8050", "STRVPNCNN")) ==
               "TCP8050: *IOSYSCFG authority required to use STRVPNCNN.");
}

BOOST_AUTO_TEST_CASE(ids) {
    BOOST_TEST(valid_id("TCP8050"));
    BOOST_TEST(valid_id("IKE0A12"));
    BOOST_TEST(!valid_id("IKE0a12"));
    BOOST_TEST(!valid_id("TC8050"));
    BOOST_TEST(!valid_id("TCP80500"));
}
