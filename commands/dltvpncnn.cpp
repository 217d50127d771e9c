// DLTVPNCNN: Delete VPN Connection group: removes exactly what CRTVPNCNN
// created for a group, in one transaction: its connection(s), the group, and
// the key exchange and data policies the wizard made for it unless another
// group uses them now. Refused while a connection of the group is active.
#include "commands/lib/cmdlib.hpp"
#include "core/base/text.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTVPNCNN",
    .title = "Delete VPN Connection (New Connection wizard)",
    .authority = cl::Authority::IoSysCfg,
    .params = {name_param("NAME", "Connection group name")},
};

// The first other group listing the key policy, or "".
Result<std::string> other_user_of_key(PolicyDb& db, const std::string& key) {
    QVPN_ASSIGN(auto groups, db.list_groups());
    for (const auto& g : groups) {
        for (const auto& k : g.key_policies) {
            if (iequals(k, key)) {
                return g.name;
            }
        }
    }
    return std::string();
}

Result<std::string> other_user_of_data(PolicyDb& db, const std::string& data) {
    QVPN_ASSIGN(auto groups, db.list_groups());
    for (const auto& g : groups) {
        if (iequals(g.data_policy, data)) {
            return g.name;
        }
    }
    return std::string();
}

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    std::vector<Msg> kept;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(DynamicGroup g, db.load_group(inv.str("NAME")));
        name = g.name;
        if (!g.from_wizard) {
            return fail("CFG0013", g.name);
        }
        QVPN_ASSIGN(auto conns, db.list_connections(g.name));
        for (const auto& c : conns) {
            if (!c.from_wizard) {
                return fail("CFG0014", g.name, c.name);
            }
        }
        for (const auto& c : conns) {
            QVPN_TRY(db.delete_connection(c.name));
        }
        QVPN_TRY(db.delete_group(g.name));
        for (const auto& k : g.key_policies) {
            QVPN_ASSIGN(KeyPolicy kp, db.load_key_policy(k));
            if (!iequals(kp.created_by, g.name)) {
                continue;
            }
            QVPN_ASSIGN(std::string user, other_user_of_key(db, kp.name));
            if (!user.empty()) {
                kept.push_back(msg("CFG0015", "*KEYPCY", kp.name, "*DKG", user));
                continue;
            }
            QVPN_TRY(db.delete_key_policy(kp.name));
        }
        QVPN_ASSIGN(DataPolicy dp, db.load_data_policy(g.data_policy));
        if (iequals(dp.created_by, g.name)) {
            QVPN_ASSIGN(std::string user, other_user_of_data(db, dp.name));
            if (!user.empty()) {
                kept.push_back(msg("CFG0015", "*DTAPCY", dp.name, "*DKG", user));
            } else {
                QVPN_TRY(db.delete_data_policy(dp.name));
            }
        }
        return {};
    }));
    for (const auto& m : kept) {
        inv.diagnostic(m);
    }
    inv.complete(msg("CFG0016", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
