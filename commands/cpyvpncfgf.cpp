// CPYVPNCFGF: Copy VPN Configuration File. OPTION(*EXPORT) writes the VPN
// configuration (or the groups GRP names, with the objects they use) to an
// XML stream file; OPTION(*IMPORT) reads one into the policy database in one
// transaction: everything or, on any error, nothing. The format is
// qvpn-config.xsd; keys travel only encrypted under PASSPHRASE
// (KEYS(*ENCRYPT)).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "commands/lib/cmdlib.hpp"
#include "core/policy/config_xml.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;
constexpr size_t kMinPassphrase = 8;

const cl::CommandDef kDef{
    .name = "CPYVPNCFGF",
    .title = "Copy VPN Configuration File",
    .authority = cl::Authority::IoSysCfg,
    .params =
        {{.kwd = "OPTION", .prompt = "Option", .type = Type::Special,
          .specials = {"*EXPORT", "*IMPORT"}, .required = true, .positional = 1},
         {.kwd = "STMF", .prompt = "Stream file", .type = Type::Path, .max_len = 4096,
          .required = true, .positional = 2},
         {.kwd = "GRP", .prompt = "Dynamic-key groups", .type = Type::Name,
          .max_len = kMaxNameLen, .single = {"*ALL"}, .dft = "*ALL", .max_count = 64,
          .help = "*ALL: the whole configuration; names: those groups and what they use"},
         choice_param("REPLACE", "Replace", {"*NO", "*YES"}, Form::Create, "*NO",
                      "*EXPORT: overwrite the file; *IMPORT: replace the configuration"),
         choice_param("KEYS", "Keys", {"*OMIT", "*ENCRYPT"}, Form::Create, "*OMIT",
                      "*ENCRYPT: keys travel encrypted under PASSPHRASE"),
         {.kwd = "PASSPHRASE", .prompt = "Passphrase", .type = Type::Char, .max_len = 256,
          .specials = {"*NONE"}, .dft = "*NONE"}},
};

Status write_file(const std::string& path, const std::string& text, bool replace) {
    if (!replace && ::access(path.c_str(), F_OK) == 0) {
        return fail("XML0015", path);
    }
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(msg("QVP0005", path).with_errno(errno));
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    int e = errno;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        e = ok ? errno : e;
        ::unlink(tmp.c_str());
        return fail(msg("QVP0005", path).with_errno(e));
    }
    return {};
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail("QVP0004", path);
    }
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || s.size() > kMaxFileBytes) {
        return fail("QVP0004", path);
    }
    return s;
}

Status run(cl::Invocation& inv) {
    bool keys = inv.is("KEYS", "*ENCRYPT");
    std::string passphrase = inv.is("PASSPHRASE", "*NONE") ? "" : inv.str("PASSPHRASE");
    if (keys && passphrase.empty()) {
        return param_error(inv, msg("XML0012"));
    }
    if (keys && passphrase.size() < kMinPassphrase) {
        return param_error(inv, msg("XML0013"));
    }
    std::vector<std::string> groups;
    if (!inv.is("GRP", "*ALL")) {
        for (const auto& v : inv.list("GRP")) {
            groups.push_back(v.atom);
        }
    }
    bool replace = inv.is("REPLACE", "*YES");
    std::string path = inv.str("STMF");
    QVPN_ASSIGN(PolicyDb db, open_db());

    if (inv.is("OPTION", "*EXPORT")) {
        ExportOptions opt{groups, keys, passphrase};
        auto text = export_config(db, opt);
        std::fill(passphrase.begin(), passphrase.end(), '\0');
        if (!text.ok()) {
            return text.failure();
        }
        QVPN_TRY(write_file(path, *text, replace));
        inv.complete(msg("XML0010", path));
        return {};
    }

    if (replace && !groups.empty()) {
        return param_error(inv, msg("XML0014"));
    }
    QVPN_ASSIGN(std::string text, read_file(path));
    QVPN_ASSIGN(ConfigDocument doc, parse_config(text));
    ImportOptions opt{groups, replace, keys, passphrase};
    auto res = import_config(db, doc, opt);
    std::fill(passphrase.begin(), passphrase.end(), '\0');
    std::fill(opt.passphrase.begin(), opt.passphrase.end(), '\0');
    if (!res.ok()) {
        return res.failure();
    }
    for (const auto& n : res->notes) {
        inv.diagnostic(n);
    }
    if (res->keys_left_out > 0) {
        inv.diagnostic(msg("XML000B", res->keys_left_out));
    }
    inv.complete(msg("XML0011", path, res->objects, res->keys));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
