// DSPMSGD: Display Message Description. Shows the first- and second-level
// text of qvpn's messages, as IBM i shows a message file entry.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "core/msg/catalog.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "DSPMSGD",
    .title = "Display Message Description",
    .authority = cl::Authority::None,
    .params = {{.kwd = "RANGE",
                .prompt = "Message identifier",
                .type = cl::Type::Generic,
                .max_len = 7,
                .specials = {"*ALL"},
                .dft = "*ALL",
                .positional = 1,
                .help = "A message ID such as TCP8601, a prefix such as TCP86, or *ALL"}},
    .display = true,
};

Status run(cl::Invocation& inv) {
    std::string want = to_upper(inv.str("RANGE"));
    bool all = want == "*ALL";
    nlohmann::json out = nlohmann::json::array();
    size_t shown = 0;
    for (const auto& [id, d] : msgcat::builtin().all()) {
        if (!all && id.rfind(want, 0) != 0) {
            continue;
        }
        ++shown;
        if (inv.json()) {
            out.push_back({{"msgid", id},
                           {"severity", d.severity},
                           {"text", d.text},
                           {"cause", d.cause},
                           {"recovery", d.recovery}});
            continue;
        }
        std::printf("Message ID . . . . . . :   %s\n", id.c_str());
        std::printf("Severity . . . . . . . :   %02d\n", d.severity);
        std::printf("Message  . . . . . . . :   %s\n", d.text.c_str());
        std::printf("Cause  . . . . . . . . :   %s\n", d.cause.c_str());
        std::printf("Recovery . . . . . . . :   %s\n\n", d.recovery.c_str());
    }
    if (shown == 0) {
        return fail("CPF2419", want);
    }
    if (inv.json()) {
        std::printf("%s\n", out.dump(2).c_str());
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
