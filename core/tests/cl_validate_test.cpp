#include <boost/test/unit_test.hpp>

#include "core/cl/command.hpp"
#include "core/cl/parser.hpp"

using namespace qvpn;
using namespace qvpn::cl;

namespace {

const CommandDef kDef{
    .name = "TSTCMD",
    .title = "Test Command",
    .params = {
        {.kwd = "CNN", .prompt = "Connection", .type = Type::Name, .max_len = 40,
         .required = true, .positional = 1},
        {.kwd = "WAIT", .prompt = "Wait", .type = Type::Int, .min = 1, .max = 3600,
         .specials = {"*NOWAIT"}, .dft = "30", .positional = 2},
        {.kwd = "LIND", .prompt = "Lines", .type = Type::Name, .max_len = 10,
         .single = {"*ALL"}, .dft = "*ALL", .max_count = 4},
        {.kwd = "KEYSVR", .prompt = "Key server",
         .elements = {{.prompt = "Type", .type = Type::Special,
                       .specials = {"*IPV4", "*FQDN"}, .required = true},
                      {.prompt = "Value", .type = Type::Char, .max_len = 20,
                       .specials = {"*NONE"}, .dft = "*NONE"}}},
        {.kwd = "TFM", .prompt = "Transforms", .max_count = 3,
         .elements = {{.prompt = "Enc", .type = Type::Special, .specials = {"*AES", "*3DES"},
                       .required = true},
                      {.prompt = "Grp", .type = Type::Int, .min = 1, .max = 32, .required = true}}},
        {.kwd = "ADDR", .prompt = "Address", .type = Type::Addr},
        {.kwd = "TEXT", .prompt = "Text", .type = Type::Char, .max_len = 10,
         .specials = {"*BLANK"}, .dft = "*BLANK"},
    }};

Result<Invocation> check(const std::string& text, std::vector<Msg>& diags) {
    auto line = parse_parameters(text);
    BOOST_REQUIRE(line.ok());
    return validate(kDef, *line, false, false, diags);
}

std::string first_diag(const std::string& text) {
    std::vector<Msg> diags;
    auto r = check(text, diags);
    BOOST_TEST(!r.ok());
    if (!r.ok()) {
        BOOST_TEST(r.error().id == "CPF0001");
    }
    return diags.empty() ? "" : diags[0].id;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_and_positionals) {
    std::vector<Msg> diags;
    auto r = check("HRgw2FINgw", diags);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->str("CNN") == "HRgw2FINgw");
    BOOST_TEST(r->integer("WAIT") == 30);
    BOOST_TEST(!r->specified("WAIT"));
    BOOST_TEST(r->is("LIND", "*ALL"));
    BOOST_TEST(r->is("TEXT", "*BLANK"));
    BOOST_TEST(r->get("ADDR").empty());

    auto r2 = check("X *nowait", diags);
    BOOST_REQUIRE(r2.ok());
    BOOST_TEST(r2->is("WAIT", "*NOWAIT"));  // special values upper-cased
}

BOOST_AUTO_TEST_CASE(lists_and_elements) {
    std::vector<Msg> diags;
    auto r = check("CNN(A) LIND(ETH1 eth2) KEYSVR(*ipv4) TFM((*AES 19) (*3DES 14))", diags);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->list("LIND").size() == 2u);
    BOOST_TEST(r->list("LIND")[1].atom == "eth2");
    const Value& ks = r->get("KEYSVR");
    BOOST_REQUIRE(ks.items.size() == 2u);
    BOOST_TEST(ks.items[0].atom == "*IPV4");
    BOOST_TEST(ks.items[1].atom == "*NONE");  // element default
    auto tfm = r->list("TFM");
    BOOST_REQUIRE(tfm.size() == 2u);
    BOOST_TEST(tfm[1].items[1].atom == "14");

    // A single element list without inner parentheses.
    auto r2 = check("CNN(A) TFM(*AES 19)", diags);
    BOOST_REQUIRE(r2.ok());
    BOOST_TEST(r2->list("TFM").size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_error_has_its_message) {
    BOOST_TEST(first_diag("") == "CPD0072");                       // required
    BOOST_TEST(first_diag("CNN(A) BOGUS(1)") == "CPD0043");        // unknown keyword
    BOOST_TEST(first_diag("CNN('bad name')") == "CPD0074");        // not a name
    BOOST_TEST(first_diag(std::string("CNN(") + std::string(41, 'A') + ")") == "CPD0075");
    BOOST_TEST(first_diag("CNN(A) WAIT(0)") == "CPD0076");         // range
    BOOST_TEST(first_diag("CNN(A) WAIT(abc)") == "CPD0077");       // not a number
    BOOST_TEST(first_diag("CNN(A) CNN(B)") == "CPD0078");          // twice
    BOOST_TEST(first_diag("CNN(A) LIND(a b c d e)") == "CPD0079"); // too many
    BOOST_TEST(first_diag("A 5 extra") == "CPD0080");              // positional
    BOOST_TEST(first_diag("CNN(A) LIND(*ALL ETH1)") == "CPD0082"); // single value
    BOOST_TEST(first_diag("CNN(A) TFM((*AES))") == "CPD0083");     // element missing
    BOOST_TEST(first_diag("CNN(A) WAIT(*FOREVER)") == "CPD0084");  // special
    BOOST_TEST(first_diag("CNN(A) ADDR(300.1.1.1)") == "CPD0085"); // address
    BOOST_TEST(first_diag("CNN(A) KEYSVR(*IPV4 a b)") == "CPD0086");
    BOOST_TEST(first_diag("CNN(A) TFM((*AES 1) *3DES)") == "CPD0071");
}

BOOST_AUTO_TEST_CASE(all_diagnostics_are_collected) {
    std::vector<Msg> diags;
    auto r = check("WAIT(0) BOGUS(1)", diags);
    BOOST_TEST(!r.ok());
    BOOST_TEST(diags.size() == 3u);  // range, unknown keyword, required CNN
}

BOOST_AUTO_TEST_CASE(argv_options_become_cl) {
    const char* argv[] = {"--cnn=HR", "--lind=ETH1,ETH2", "--tfm=*AES 19,*3DES 14",
                          "--text=two words", "--json"};
    ArgvFlags flags;
    auto text = argv_to_cl(kDef, 5, const_cast<char**>(argv), flags);
    BOOST_REQUIRE(text.ok());
    BOOST_TEST(flags.json);
    std::vector<Msg> diags;
    auto r = check(*text, diags);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->str("TEXT") == "two words");
    BOOST_TEST(r->list("TFM").size() == 2u);
    BOOST_TEST(r->list("LIND").size() == 2u);

    const char* bad[] = {"--nosuch=1"};
    auto t2 = argv_to_cl(kDef, 1, const_cast<char**>(bad), flags);
    BOOST_REQUIRE(!t2.ok());
    BOOST_TEST(t2.error().id == "CPD0043");

    const char* words[] = {"CNN(X)", "WAIT(5)", "?"};
    ArgvFlags f2;
    auto t3 = argv_to_cl(kDef, 3, const_cast<char**>(words), f2);
    BOOST_REQUIRE(t3.ok());
    BOOST_TEST(f2.help);
    BOOST_TEST(*t3 == "CNN(X) WAIT(5)");
}

BOOST_AUTO_TEST_CASE(prompt_lists_every_keyword) {
    std::string p = prompt_text(kDef);
    for (const auto& param : kDef.params) {
        BOOST_TEST(p.find(param.kwd) != std::string::npos);
    }
    BOOST_TEST(p.find("Required, Positional 1") != std::string::npos);
    BOOST_TEST(p.find("Default: 30") != std::string::npos);
}
