// DSPDCMCRT: Display Certificates of the certificate store: subject, issuer,
// validity, key type and SHA-256 fingerprint. Private keys are never shown;
// the display says *SET or *NONE.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPDCMCRT",
    .title = "Display Certificates",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("LABEL", "Certificate label"),
               {.kwd = "TYPE", .prompt = "Certificate type", .type = Type::Special,
                .specials = {"*ALL", "*SYSTEM", "*CA"}, .dft = "*ALL"}},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string want = inv.str("LABEL");
    if (want != "*ALL" && (want.empty() || want.back() != '*')) {
        QVPN_ASSIGN(CertificateInfo c, db.load_certificate(want));
        print_panel(certificate_panel(c), inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_certificates());
    Table t{{{"label", "Label"},
             {"type", "Type"},
             {"key_type", "Key"},
             {"not_after", "Valid to (UTC)"},
             {"subject", "Subject"}},
            {}};
    std::vector<Panel> full;
    for (const auto& c : all) {
        if (!name_matches(want, c.label) ||
            (!inv.is("TYPE", "*ALL") && inv.str("TYPE") != to_cl(c.kind))) {
            continue;
        }
        full.push_back(certificate_panel(c));
        t.rows.push_back(full.back());
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*CERT", want);
    }
    print_table("Certificates", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
