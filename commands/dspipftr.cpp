// DSPIPFTR: Display IP Filter. Shows the active packet rules of each line
// with their nftables counters, and the QIPFILTER journal job's counters.
// See man/dspipftr.1.
#include <cstdio>

#include "core/cl/command.hpp"
#include "rules/display.hpp"
#include "rules/nft.hpp"
#include "rules/store.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "DSPIPFTR",
    .title = "Display IP Filter",
    .authority = cl::Authority::IoSysCfg,
    .params = {
        {.kwd = "LIND", .prompt = "Line description", .type = cl::Type::Name, .max_len = 15,
         .specials = {"*ALL"}, .dft = "*ALL", .positional = 1,
         .help = "The line whose rules to show, or *ALL"},
    },
    .display = true,
};

Status run(cl::Invocation& inv) {
    std::string line = inv.is("LIND", "*ALL") ? "" : inv.str("LIND");
    auto store = rules::Store::open(rules::state_path(), false);
    if (!store.ok()) {
        return store.failure();
    }
    auto st = store->read();
    if (!st.ok()) {
        return st.failure();
    }
    if (!rules::state_is_live(*st)) {
        inv.diagnostic(msg("NFT0123", rules::state_path()));
        *st = rules::State{};
    }
    if (!line.empty() && st->line(line) == nullptr) {
        return fail("NFT0111", line);
    }
    rules::Nft nft;
    auto listing = nft.list_json();
    if (!listing.ok()) {
        return listing.failure();
    }
    auto j = rules::display_json(*st, rules::parse_counters(*listing), rules::job_status(), line);
    if (inv.json()) {
        std::printf("%s\n", j.dump(2).c_str());
        return {};
    }
    if (st->empty()) {
        inv.complete(msg("NFT0112"));
    }
    std::fputs(rules::display_text(j).c_str(), stdout);
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
