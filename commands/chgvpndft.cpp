// CHGVPNDFT: Change VPN Defaults. The defaults seed new objects: the security
// level a policy created with KEYTFM(*DFT) or DTATFM(*DFT) gets, and the
// lifetimes of policies created with LIFETIME(*DFT). Existing objects keep
// their values.
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNDFT",
    .title = "Change VPN Defaults",
    .authority = cl::Authority::IoSysCfg,
    .params = {choice_param("KEYSECLVL", "Key protection security level",
                            cl_values<SecurityLevel>(), Form::Change, ""),
               choice_param("DTASECLVL", "Data protection security level",
                            cl_values<SecurityLevel>(), Form::Change, ""),
               int_param("KEYLIFE", "Key (IKE SA) lifetime, minutes", 1, 43200, {}, Form::Change,
                         ""),
               int_param("KEYLIFEKB", "Key (IKE SA) lifetime, kilobytes", 1, 2147483647,
                         {"*NOMAX"}, Form::Change, ""),
               int_param("DTALIFE", "Data (IPsec SA) lifetime, minutes", 1, 43200, {},
                         Form::Change, ""),
               int_param("DTALIFEKB", "Data (IPsec SA) lifetime, kilobytes", 1, 2147483647,
                         {"*NOMAX"}, Form::Change, "")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(VpnDefaults d, db.defaults());
        if (!keep(inv, "KEYSECLVL")) {
            d.key_level = read_enum(inv, "KEYSECLVL", SecurityLevel::Balanced);
        }
        if (!keep(inv, "DTASECLVL")) {
            d.data_level = read_enum(inv, "DTASECLVL", SecurityLevel::Balanced);
        }
        if (!keep(inv, "KEYLIFE")) {
            d.key_lifetime_minutes = read_number(inv, "KEYLIFE", d.key_lifetime_minutes);
        }
        if (!keep(inv, "KEYLIFEKB")) {
            d.key_lifetime_kb = read_number(inv, "KEYLIFEKB", d.key_lifetime_kb);
        }
        if (!keep(inv, "DTALIFE")) {
            d.data_lifetime_minutes = read_number(inv, "DTALIFE", d.data_lifetime_minutes);
        }
        if (!keep(inv, "DTALIFEKB")) {
            d.data_lifetime_kb = read_number(inv, "DTALIFEKB", d.data_lifetime_kb);
        }
        return db.set_defaults(d);
    }));
    inv.complete(msg("CFG0024"));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
