// PRTCMNTRC: Print Communications Trace. Formats an ended trace: every
// record, or those the selections pick (TCPIPADR, SLTPORT, FMTBCD), with
// the IP, IKE and ESP headers decoded (FMTTCP). Output to the terminal, a
// stream file, JSON, and a pcap file for Wireshark.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands/lib/trace_params.hpp"
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
    .params =
        {
            cmd::trace_cfgobj_param(),
            cmd::trace_cfgtype_param(),
            {.kwd = "OUTPUT",
             .prompt = "Output",
             .type = cl::Type::Special,
             .specials = {"*PRINT", "*STMF", "*JSON"},
             .dft = "*PRINT",
             .help =
                 "*PRINT: the terminal; *STMF: the stream file TOSTMF; *JSON: one JSON document"},
            {.kwd = "TOSTMF", .prompt = "To stream file", .type = cl::Type::Path, .max_len = 1024},
            {.kwd = "STMFOPT",
             .prompt = "Stream file option",
             .type = cl::Type::Special,
             .specials = {"*NONE", "*REPLACE"},
             .dft = "*NONE",
             .help = "*NONE refuses to overwrite TOSTMF or PCAP"},
            {.kwd = "PCAP",
             .prompt = "Also write pcap file",
             .type = cl::Type::Path,
             .max_len = 1024,
             .help = "The selected records as a pcap file for Wireshark (also --pcap FILE)"},
            {.kwd = "FMTTCP",
             .prompt = "Format TCP/IP data",
             .type = cl::Type::Special,
             .specials = {"*YES", "*NO", "*LINTYPE"},
             .dft = "*YES"},
            {.kwd = "TCPIPADR",
             .prompt = "Format TCP/IP data by address",
             .elements = {{.prompt = "Address 1",
                           .type = cl::Type::Addr,
                           .specials = {"*ALL"},
                           .dft = "*ALL"},
                          {.prompt = "Address 2",
                           .type = cl::Type::Addr,
                           .specials = {"*ALL"},
                           .dft = "*ALL"}},
             .help = "One address: traffic to or from it; two: only between them"},
            {.kwd = "SLTPORT",
             .prompt = "IP port number",
             .type = cl::Type::Int,
             .min = 1,
             .max = 65535,
             .specials = {"*ALL"},
             .dft = "*ALL"},
            {.kwd = "FMTBCD",
             .prompt = "Format broadcast data",
             .type = cl::Type::Special,
             .specials = {"*YES", "*NO"},
             .dft = "*YES",
             .help = "*NO leaves out broadcasts and ARP"},
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

// An output that is complete or absent: stdout, or a stream file written
// to a temporary beside it and renamed over it at the end. Records are
// written as they are formatted, so a 64M trace never sits in memory as text.
class Output {
public:
    static Result<Output> open(const std::string& path, bool replace) {
        Output o;
        if (path.empty()) {
            o.f_ = stdout;
            return o;
        }
        std::error_code ec;
        if (!replace && std::filesystem::exists(path, ec)) {
            return fail("TRC001E", path);
        }
        o.path_ = path;
        o.tmp_ = path + ".tmp" + std::to_string(::getpid());
        o.f_ = std::fopen(o.tmp_.c_str(), "wbe");
        if (o.f_ == nullptr) {
            return fail(msg("QVP0005", path).with_errno(errno));
        }
        return o;
    }
    Output(Output&& o) noexcept : f_(o.f_), path_(std::move(o.path_)), tmp_(std::move(o.tmp_)) {
        o.f_ = nullptr;
    }
    Output& operator=(Output&&) = delete;
    ~Output() {
        if (f_ != nullptr && f_ != stdout) {
            std::fclose(f_);
            ::unlink(tmp_.c_str());
        }
    }

    void write(std::string_view s) {
        ok_ = ok_ && std::fwrite(s.data(), 1, s.size(), f_) == s.size();
    }
    void write(ByteView b) { ok_ = ok_ && std::fwrite(b.data(), 1, b.size(), f_) == b.size(); }

    Status commit() {
        if (f_ == stdout) {
            std::fflush(stdout);
            return {};
        }
        int e = 0;
        if (!ok_ || std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0) {
            e = errno;
        }
        if (std::fclose(f_) != 0 && e == 0) {
            e = errno;
        }
        f_ = nullptr;
        if (e == 0 && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
            e = errno;
        }
        if (e != 0) {
            ::unlink(tmp_.c_str());
            return fail(msg("QVP0005", path_).with_errno(e));
        }
        return {};
    }

private:
    Output() = default;
    std::FILE* f_ = nullptr;
    std::string path_, tmp_;
    bool ok_ = true;
};

Status run(cl::Invocation& inv) {
    bool to_stmf = inv.is("OUTPUT", "*STMF") || (inv.json() && !inv.str("TOSTMF").empty());
    if (inv.is("OUTPUT", "*STMF") && inv.str("TOSTMF").empty()) {
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

    QVPN_ASSIGN(Output out, Output::open(to_stmf ? inv.str("TOSTMF") : "", replace));
    std::optional<Output> pcap;
    if (!pcap_path.empty()) {
        QVPN_ASSIGN(Output p, Output::open(pcap_path, replace));
        pcap.emplace(std::move(p));
        pcap->write(ByteView(pcap_file_header(link)));
    }
    if (inv.json()) {
        // One JSON object: the trace description, then the frames as they come.
        nlohmann::json head = header_json(trace.info(), trace.header());
        head["selection"] = opt.selection.to_cl();
        std::string h = head.dump();
        h.pop_back();
        out.write(h + ",\"frames\":[");
    } else {
        out.write(header_text(trace.info(), trace.header(), opt) + column_heading());
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
            out.write((printed > 1 ? ",\n" : "\n") +
                      frame_json(number, rec, f, opt.format_tcp).dump());
        } else {
            out.write(frame_text(number, rec, f, opt));
        }
        if (pcap) {
            ByteWriter w;
            append_pcap_record(w, rec);
            pcap->write(ByteView(w.data()));
        }
    }
    if (inv.json()) {
        out.write("],\"records_total\":" + std::to_string(number) +
                  ",\"records_selected\":" + std::to_string(printed) + "}\n");
    }
    if (pcap) {
        QVPN_TRY(pcap->commit());
    }
    QVPN_TRY(out.commit());
    if (!inv.json()) {
        std::string where = to_stmf ? inv.str("TOSTMF") : std::string("*PRINT");
        inv.complete(msg("TRC0004", printed, number, trace.info().cfgobj, to_cl(type), where));
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    return cl::run_main(kDef, run, argc, argv);
}
