// PRTCMNTRC: Print Communications Trace. Formats an ended trace: every
// record, or those the selections pick (TCPIPADR, SLTPORT, FMTBCD), with
// the IP, IKE and ESP headers decoded (FMTTCP). Output to the terminal, a
// stream file, JSON, and a pcap file for Wireshark.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "core/cl/command.hpp"
#include "daemon/trace/decoder.hpp"
#include "daemon/trace/pcap_writer.hpp"
#include "daemon/trace/printer.hpp"
#include "daemon/trace/selection.hpp"
#include "daemon/trace/trace_control.hpp"

using namespace qvpn;
using namespace qvpn::trace;

namespace {

const cl::CommandDef kDef{
    .name = "PRTCMNTRC",
    .title = "Print Communications Trace",
    .authority = cl::Authority::Service,
    .params = {
        {.kwd = "CFGOBJ", .prompt = "Configuration object", .type = cl::Type::Name,
         .max_len = 15, .required = true, .positional = 1},
        {.kwd = "CFGTYPE", .prompt = "Type", .type = cl::Type::Special,
         .specials = {"*LIN", "*NWI", "*NWS"}, .required = true, .positional = 2},
        {.kwd = "OUTPUT", .prompt = "Output", .type = cl::Type::Special,
         .specials = {"*PRINT", "*STMF", "*JSON"}, .dft = "*PRINT",
         .help = "*PRINT: the terminal; *STMF: the stream file TOSTMF; *JSON: one JSON document"},
        {.kwd = "TOSTMF", .prompt = "To stream file", .type = cl::Type::Path, .max_len = 1024},
        {.kwd = "STMFOPT", .prompt = "Stream file option", .type = cl::Type::Special,
         .specials = {"*NONE", "*REPLACE"}, .dft = "*NONE",
         .help = "*NONE refuses to overwrite TOSTMF or PCAP"},
        {.kwd = "PCAP", .prompt = "Also write pcap file", .type = cl::Type::Path, .max_len = 1024,
         .help = "The selected records as a pcap file for Wireshark (also --pcap FILE)"},
        {.kwd = "FMTTCP", .prompt = "Format TCP/IP data", .type = cl::Type::Special,
         .specials = {"*YES", "*NO", "*LINTYPE"}, .dft = "*YES"},
        {.kwd = "TCPIPADR", .prompt = "Format TCP/IP data by address",
         .elements = {{.prompt = "Address 1", .type = cl::Type::Addr, .specials = {"*ALL"},
                       .dft = "*ALL"},
                      {.prompt = "Address 2", .type = cl::Type::Addr, .specials = {"*ALL"},
                       .dft = "*ALL"}},
         .help = "One address: traffic to or from it; two: only between them"},
        {.kwd = "SLTPORT", .prompt = "IP port number", .type = cl::Type::Int, .min = 1,
         .max = 65535, .specials = {"*ALL"}, .dft = "*ALL"},
        {.kwd = "FMTBCD", .prompt = "Format broadcast data", .type = cl::Type::Special,
         .specials = {"*YES", "*NO"}, .dft = "*YES", .help = "*NO leaves out broadcasts and ARP"},
    },
    .display = true,
};

Selection selection_of(const cl::Invocation& inv) {
    Selection s;
    std::vector<IpAddress> addrs;
    const cl::Value& v = inv.get("TCPIPADR");
    for (const auto& item : v.is_list ? v.items : std::vector<cl::Value>{v}) {
        if (auto a = IpAddress::parse(item.atom)) {
            addrs.push_back(*a);
        }
    }
    if (!addrs.empty()) {
        s.address1 = addrs[0];
    }
    if (addrs.size() > 1) {
        s.address2 = addrs[1];
    }
    if (!inv.is("SLTPORT", "*ALL") && !inv.str("SLTPORT").empty()) {
        s.port = static_cast<uint16_t>(inv.integer("SLTPORT"));
    }
    s.broadcasts = !inv.is("FMTBCD", "*NO");
    return s;
}

// Write a whole file or nothing: a temporary beside it, renamed over it.
Status write_file(const std::string& path, ByteView data, bool replace) {
    std::error_code ec;
    if (!replace && std::filesystem::exists(path, ec)) {
        return fail("TRC001E", path);
    }
    std::string tmp = path + ".tmp" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fail(msg("QVP0005", path).with_errno(errno));
    }
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(msg("QVP0005", path).with_errno(e));
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail(msg("QVP0005", path).with_errno(e));
    }
    return {};
}

Status run(cl::Invocation& inv) {
    bool to_stmf = inv.is("OUTPUT", "*STMF");
    if (to_stmf && inv.str("TOSTMF").empty()) {
        return fail("TRC001F");
    }
    bool replace = inv.is("STMFOPT", "*REPLACE");
    CfgType type = *cfgtype_from_cl(inv.str("CFGTYPE"));
    QVPN_ASSIGN(LoadedTrace trace, LoadedTrace::load(type, inv.str("CFGOBJ"), TraceStore()));

    PrintOptions opt;
    opt.format_tcp = !inv.is("FMTTCP", "*NO");
    opt.selection = selection_of(inv);
    const LinkType link = trace.header().link;
    const std::string pcap_path = inv.str("PCAP");

    std::string text;
    nlohmann::json frames = nlohmann::json::array();
    ByteWriter pcap(pcap_file_header(link));
    if (!inv.json()) {
        text = header_text(trace.info(), trace.header(), opt) + column_heading();
    }
    size_t number = 0, printed = 0;
    for (const FrameRecord& rec : trace.records()) {
        ++number;
        DecodedFrame f = decode(link, rec.data);
        if (!selected(f, opt.selection)) {
            continue;
        }
        ++printed;
        if (inv.json()) {
            frames.push_back(frame_json(number, rec, f, opt.format_tcp));
        } else {
            text += frame_text(number, rec, f, opt);
        }
        if (!pcap_path.empty()) {
            append_pcap_record(pcap, rec);
        }
    }

    std::string where = "*PRINT";
    if (inv.json()) {
        nlohmann::json doc = header_json(trace.info(), trace.header());
        doc["selection"] = opt.selection.to_cl();
        doc["records_total"] = number;
        doc["records_selected"] = printed;
        doc["frames"] = std::move(frames);
        text = doc.dump(2) + "\n";
        where = "*JSON";
    }
    if (!pcap_path.empty()) {
        QVPN_TRY(write_file(pcap_path, pcap.data(), replace));
    }
    if (to_stmf) {
        QVPN_TRY(write_file(inv.str("TOSTMF"), as_view(text), replace));
        where = inv.str("TOSTMF");
    } else {
        std::fwrite(text.data(), 1, text.size(), stdout);
    }
    if (!inv.json()) {
        inv.complete(msg("TRC0004", printed, number, trace.info().cfgobj, to_cl(type), where));
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
