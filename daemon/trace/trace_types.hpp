// The vocabulary of a communications trace, shared by the trace job, the
// trace file, and the STRCMNTRC family of commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qvpn::trace {

// CFGTYPE: what CFGOBJ names.
enum class CfgType : uint8_t {
    Line,              // *LIN: a line description, or an interface named like the line
    NetworkInterface,  // *NWI: a Linux network interface named directly
    NetworkServer,     // *NWS: refused; qvpn has no network servers
};

// DTADIR.
enum class DataDir : uint8_t { Both = 0, Send = 1, Receive = 2 };

// TRCFULL.
enum class TraceFull : uint8_t { Wrap = 0, StopTrace = 1 };

// Direction of one traced frame.
enum class Direction : uint8_t { Receive = 1, Send = 2 };

// Lifecycle of a trace (CHKCMNTRC shows these).
enum class TraceState : uint8_t {
    Starting,    // STRCMNTRC has created it; the job is not capturing yet
    Active,      // the trace job is capturing
    Ending,      // ENDCMNTRC asked the job to stop
    Stopped,     // ended by ENDCMNTRC; data kept
    Full,        // TRCFULL(*STOPTRC) and the buffer filled
    LineFailed,  // the interface went away while traced
    Abended,     // the job ended without recording it (found later)
};

// How the frames of a trace begin (values are pcap LINKTYPE_ numbers, so a
// trace file exports to pcap without translation).
enum class LinkType : uint32_t {
    Ethernet = 1,  // LINKTYPE_ETHERNET: destination MAC first
    Raw = 101,     // LINKTYPE_RAW: an IPv4 or IPv6 packet, no link header
};

// USRDTA: bytes of user data kept per frame, beyond the protocol headers.
struct UserData {
    bool all = false;      // *MAX
    uint32_t bytes = 100;  // otherwise: this many (*CALC gives 100 on LAN lines)
};

// A MAXSTG value in bytes from its CL spelling: a number of kilobytes, or
// 128K, 256K, 2M, ... 64M, *MIN, *MAX. nullopt when it is not one of them or
// lies outside 128K..64M.
std::optional<uint64_t> parse_maxstg(std::string_view text);
// A USRDTA value (*CALC, *MAX, or a number 0..65535).
std::optional<UserData> parse_usrdta(std::string_view text);

inline constexpr uint64_t kMinBufferBytes = 128 * 1024;
inline constexpr uint64_t kMaxBufferBytes = 64 * 1024 * 1024;
// The default of QCMNTRCMAX, the sum of all trace buffers.
inline constexpr uint64_t kDefaultStorageLimitBytes = 256ull * 1024 * 1024;
// USRDTA(*CALC) on a LAN line: the seed's "first 100 bytes of user data".
inline constexpr uint32_t kCalcUserDataBytes = 100;

std::string_view to_cl(CfgType t);          // *LIN *NWI *NWS
std::string_view to_cl(DataDir d);          // *BOTH *SND *RCV
std::string_view to_cl(TraceFull f);        // *WRAP *STOPTRC
std::string_view to_cl(Direction d);        // *RCV *SND (S/R column: R, S)
std::string_view state_name(TraceState s);  // "active", "stopped (buffer full)", ...
std::string_view state_key(TraceState s);   // stable script form: ACTIVE, FULL, ...
std::string_view link_name(LinkType l);

std::optional<CfgType> cfgtype_from_cl(std::string_view s);
std::optional<DataDir> datadir_from_cl(std::string_view s);
std::optional<TraceFull> tracefull_from_cl(std::string_view s);
std::optional<TraceState> state_from_key(std::string_view s);

// A trace has ended (its data is final) in these states.
bool is_ended(TraceState s);

}  // namespace qvpn::trace
