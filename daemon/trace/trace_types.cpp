#include "daemon/trace/trace_types.hpp"

#include <array>
#include <utility>

#include "core/base/text.hpp"

namespace qvpn::trace {

namespace {

// IBM's list of MAXSTG choices that fall inside the seed's 128K..64M range.
constexpr std::array<std::pair<std::string_view, uint64_t>, 11> kMaxstgSpellings{{
    {"*MIN", kMinBufferBytes},
    {"*MAX", kMaxBufferBytes},
    {"128K", 128ull * 1024},
    {"256K", 256ull * 1024},
    {"2M", 2ull << 20},
    {"4M", 4ull << 20},
    {"6M", 6ull << 20},
    {"8M", 8ull << 20},
    {"16M", 16ull << 20},
    {"32M", 32ull << 20},
    {"64M", 64ull << 20},
}};

}  // namespace

std::optional<uint64_t> parse_maxstg(std::string_view text) {
    std::string up = to_upper(trim(text));
    for (const auto& [name, bytes] : kMaxstgSpellings) {
        if (up == name) {
            return bytes;
        }
    }
    // A plain number is kilobytes: the seed's MAXSTG(2048) is a 2 MB buffer.
    long long kb = 0;
    if (!parse_int(up, kb) || kb < 128 || kb > 65536) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(kb) * 1024;
}

std::optional<UserData> parse_usrdta(std::string_view text) {
    std::string up = to_upper(trim(text));
    if (up == "*CALC" || up.empty()) {
        return UserData{false, kCalcUserDataBytes};
    }
    if (up == "*MAX") {
        return UserData{true, 0};
    }
    long long n = 0;
    if (!parse_int(up, n) || n < 0 || n > 65535) {
        return std::nullopt;
    }
    return UserData{false, static_cast<uint32_t>(n)};
}

std::string_view to_cl(CfgType t) {
    switch (t) {
        case CfgType::Line: return "*LIN";
        case CfgType::NetworkInterface: return "*NWI";
        case CfgType::NetworkServer: return "*NWS";
    }
    return "*LIN";
}

std::string_view to_cl(DataDir d) {
    switch (d) {
        case DataDir::Both: return "*BOTH";
        case DataDir::Send: return "*SND";
        case DataDir::Receive: return "*RCV";
    }
    return "*BOTH";
}

std::string_view to_cl(TraceFull f) {
    return f == TraceFull::Wrap ? "*WRAP" : "*STOPTRC";
}

std::string_view to_cl(Direction d) {
    return d == Direction::Send ? "*SND" : "*RCV";
}

std::string_view state_name(TraceState s) {
    switch (s) {
        case TraceState::Starting: return "starting";
        case TraceState::Active: return "active";
        case TraceState::Ending: return "ending";
        case TraceState::Stopped: return "stopped";
        case TraceState::Full: return "stopped (buffer full)";
        case TraceState::LineFailed: return "stopped (line failed)";
        case TraceState::Abended: return "stopped (job ended abnormally)";
    }
    return "unknown";
}

std::string_view state_key(TraceState s) {
    switch (s) {
        case TraceState::Starting: return "STARTING";
        case TraceState::Active: return "ACTIVE";
        case TraceState::Ending: return "ENDING";
        case TraceState::Stopped: return "STOPPED";
        case TraceState::Full: return "FULL";
        case TraceState::LineFailed: return "LINEFAILED";
        case TraceState::Abended: return "ABENDED";
    }
    return "STOPPED";
}

std::string_view link_name(LinkType l) {
    return l == LinkType::Ethernet ? "ETHERNET" : "IP";
}

std::optional<CfgType> cfgtype_from_cl(std::string_view s) {
    for (CfgType t : {CfgType::Line, CfgType::NetworkInterface, CfgType::NetworkServer}) {
        if (iequals(s, to_cl(t))) {
            return t;
        }
    }
    return std::nullopt;
}

std::optional<DataDir> datadir_from_cl(std::string_view s) {
    for (DataDir d : {DataDir::Both, DataDir::Send, DataDir::Receive}) {
        if (iequals(s, to_cl(d))) {
            return d;
        }
    }
    return std::nullopt;
}

std::optional<TraceFull> tracefull_from_cl(std::string_view s) {
    for (TraceFull f : {TraceFull::Wrap, TraceFull::StopTrace}) {
        if (iequals(s, to_cl(f))) {
            return f;
        }
    }
    return std::nullopt;
}

std::optional<TraceState> state_from_key(std::string_view s) {
    for (TraceState t :
         {TraceState::Starting, TraceState::Active, TraceState::Ending, TraceState::Stopped,
          TraceState::Full, TraceState::LineFailed, TraceState::Abended}) {
        if (s == state_key(t)) {
            return t;
        }
    }
    return std::nullopt;
}

bool is_ended(TraceState s) {
    return s == TraceState::Stopped || s == TraceState::Full || s == TraceState::LineFailed ||
           s == TraceState::Abended;
}

}  // namespace qvpn::trace
