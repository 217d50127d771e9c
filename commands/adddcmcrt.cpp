// ADDDCMCRT: Add Certificate to the certificate store (the part of IBM i's
// Digital Certificate Manager VPN uses). TYPE(*SYSTEM) stores a certificate
// with its private key, to authenticate this system (key exchange policies
// with AUTH(*RSA) or AUTH(*ECDSA)); TYPE(*CA) stores a trusted CA
// certificate. The private key is sealed to the system key pair.
#include <fstream>
#include <iterator>

#include "commands/lib/cmdlib.hpp"
#include "core/policy/cert_store.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "ADDDCMCRT",
    .title = "Add Certificate",
    .authority = cl::Authority::IoSysCfg,
    .params =
        {name_param("LABEL", "Certificate label"),
         choice_param("TYPE", "Certificate type", {"*SYSTEM", "*CA"}, Form::Create, "*SYSTEM",
                      "*SYSTEM: this system's certificate and key; *CA: a trusted CA"),
         {.kwd = "FROMSTMF", .prompt = "From stream file", .type = Type::Path,
          .max_len = 4096, .required = true, .positional = 2},
         choice_param("FORMAT", "File format", {"*PEM", "*PKCS12"}, Form::Create, "*PEM",
                      "*PEM: PEM or DER certificate; *PKCS12: certificate and key"),
         {.kwd = "KEYSTMF", .prompt = "Private key stream file", .type = Type::Path,
          .max_len = 4096, .specials = {"*FROMSTMF"}, .dft = "*FROMSTMF",
          .help = "*FROMSTMF: the key is in FROMSTMF (PEM) or in the PKCS#12 file"},
         {.kwd = "PASSWORD", .prompt = "Password", .type = Type::Char, .max_len = 256,
          .specials = {"*NONE"}, .dft = "*NONE",
          .help = "Of the PKCS#12 file or the encrypted PEM key"},
         text_param(Form::Create)},
};

Result<Bytes> read_stmf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail("QVP0004", path);
    }
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || b.size() > 1024 * 1024) {
        return fail("QVP0004", path);
    }
    return b;
}

Status run(cl::Invocation& inv) {
    CertKind kind = inv.is("TYPE", "*CA") ? CertKind::Ca : CertKind::System;
    CertFormat format = inv.is("FORMAT", "*PKCS12") ? CertFormat::Pkcs12 : CertFormat::Pem;
    if (format == CertFormat::Pkcs12 && !inv.is("KEYSTMF", "*FROMSTMF")) {
        return param_error(inv, msg("CFG0007", "KEYSTMF", "*FORMAT", "*PKCS12"));
    }
    QVPN_ASSIGN(Bytes cert, read_stmf(inv.str("FROMSTMF")));
    Bytes key;
    if (!inv.is("KEYSTMF", "*FROMSTMF")) {
        QVPN_ASSIGN(key, read_stmf(inv.str("KEYSTMF")));
    }
    std::string password = inv.is("PASSWORD", "*NONE") ? "" : inv.str("PASSWORD");
    std::string text = inv.is("TEXT", "*BLANK") ? "" : inv.str("TEXT");
    auto imported = import_certificate(inv.str("LABEL"), kind, format, cert, key, password, text);
    std::fill(key.begin(), key.end(), 0);
    std::fill(password.begin(), password.end(), '\0');
    if (!imported.ok()) {
        return imported.failure();
    }
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_TRY(db.add_certificate(imported->info, imported->private_key));
    inv.complete(msg("CFG0020", "*CERT", imported->info.label));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
