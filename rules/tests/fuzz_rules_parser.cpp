// Fuzz target: the .i3p lexer, parser and checks, and the compiler on what
// they accept. INCLUDEs resolve in memory: the input may include itself
// (a cycle) or one small fixed file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rules/compile.hpp"
#include "rules/parser.hpp"
#include "rules/tests/mem_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    qvpn::rules::test::MemFiles files;
    files.files["/f/main.i3p"] = text;
    files.files["/f/inc.i3p"] =
        "ADDRESS incnet IP = 10.9.0.0 MASK = 255.255.0.0\n"
        "FILTER SET inc ACTION = PERMIT SRCADDR = incnet PROTOCOL = TCP DSTPORT = 22\n";
    qvpn::rules::Parsed p = qvpn::rules::parse_text("/f/main.i3p", text, files);
    if (!p.ok()) {
        return 0;
    }
    qvpn::rules::check(p);
    if (!p.ok()) {
        return 0;
    }
    std::vector<qvpn::rules::LineBinding> lines;
    for (const auto& fi : p.doc.interfaces) {
        std::vector<std::string> sets;
        for (const auto& s : fi.sets) {
            sets.push_back(s.first);
        }
        lines.push_back({fi.name, "eth0", fi.ppp, sets});
    }
    auto unit = qvpn::rules::compile_unit(p.doc, lines, {.unit = 1, .nflog_group = 5});
    (void)qvpn::rules::compose_table({unit.body}, unit.lines, {});
    return 0;
}
