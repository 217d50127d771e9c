// CHGVPNA: Change VPN Attributes, the global properties IBM i keeps on the
// VPN server's property sheet (IKE_SA rekey, HTTP certificate lookup) plus
// the server-wide settings qvpn's jobs need. *SAME keeps a value.
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "CHGVPNA",
    .title = "Change VPN Attributes",
    .authority = cl::Authority::IoSysCfg,
    .params =
        {yesno_param("IKESAREKEY", "Enable IKE_SA rekey for IKEv2", Form::Change, "",
                     "*NO: a new IKE SA authenticates again (IBM i default)"),
         yesno_param("HTTPCRTLKP", "Allow HTTP lookup of certificates", Form::Change, ""),
         yesno_param("ESN", "Extended sequence numbers for new connections", Form::Change, ""),
         yesno_param("RSPAGGR", "Respond to IKEv1 aggressive mode", Form::Change, ""),
         int_param("DPDITV", "Dead peer detection interval (seconds)", 0, 3600, {}, Form::Change,
                   "", "0 turns liveness checks off"),
         int_param("HALFOPEN", "Half-open IKE SAs before cookies", 1, 100000, {}, Form::Change,
                   ""),
         yesno_param("AUTOSTART", "Start the VPN server with TCP/IP", Form::Change, ""),
         choice_param("OTHERTRAFFIC", "Generated rules: other traffic", {"*PERMIT", "*DENY"},
                      Form::Change, "",
                      "What the generated filter rules do with traffic no rule names")},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(VpnAttributes a, db.attributes());
        auto flag = [&](const char* kwd, bool& field) {
            if (!keep(inv, kwd)) {
                field = yes(inv, kwd);
            }
        };
        flag("IKESAREKEY", a.ikesa_rekey);
        flag("HTTPCRTLKP", a.http_cert_lookup);
        flag("ESN", a.esn);
        flag("RSPAGGR", a.responder_aggressive);
        flag("AUTOSTART", a.autostart_server);
        if (!keep(inv, "DPDITV")) {
            a.dpd_seconds = static_cast<int>(inv.integer("DPDITV"));
        }
        if (!keep(inv, "HALFOPEN")) {
            a.half_open_limit = static_cast<int>(inv.integer("HALFOPEN"));
        }
        if (!keep(inv, "OTHERTRAFFIC")) {
            a.generated_permit_other = inv.is("OTHERTRAFFIC", "*PERMIT");
        }
        return db.set_attributes(a);
    }));
    inv.complete(msg("CFG0023"));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
