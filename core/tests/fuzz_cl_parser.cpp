// Fuzz target: the CL command-string parser and the validation of its result
// against a definition with every parameter shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cl/command.hpp"
#include "core/cl/parser.hpp"

namespace {
const qvpn::cl::CommandDef kDef{
    .name = "FUZZ",
    .title = "Fuzz",
    .params = {
        {.kwd = "CNN", .type = qvpn::cl::Type::Name, .max_len = 40, .positional = 1},
        {.kwd = "N", .type = qvpn::cl::Type::Int, .min = 1, .max = 9, .specials = {"*X"}},
        {.kwd = "L", .type = qvpn::cl::Type::Name, .single = {"*ALL"}, .max_count = 3},
        {.kwd = "E", .max_count = 2,
         .elements = {{.type = qvpn::cl::Type::Special, .specials = {"*A"}, .required = true},
                      {.type = qvpn::cl::Type::Addr, .dft = "0.0.0.0"}}},
    }};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto line = qvpn::cl::parse_command(text);
    if (line.ok()) {
        std::vector<qvpn::Msg> diags;
        auto inv = qvpn::cl::validate(kDef, *line, false, false, diags);
        (void)inv;
        for (const auto& a : line->args) {
            (void)a.value.to_cl();
        }
    }
    return 0;
}
