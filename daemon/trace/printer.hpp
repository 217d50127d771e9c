// The PRTCMNTRC printout: a header describing the trace, then one entry per
// record (number, S/R, lengths, time, summary), with FMTTCP(*YES) each
// decoded header on its own line and a hex dump of the user data. Pure: the
// command decides where the text goes. The JSON form carries the same facts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/trace/decoder.hpp"
#include "daemon/trace/selection.hpp"
#include "daemon/trace/trace_file.hpp"
#include "daemon/trace/trace_store.hpp"

namespace qvpn::trace {

struct PrintOptions {
    bool format_tcp = true;  // FMTTCP(*YES): decoded headers and the user data
    Selection selection;
};

std::string header_text(const TraceInfo& info, const FileHeader& file, const PrintOptions& o);
std::string column_heading();
std::string frame_text(size_t number, const FrameRecord& rec, const DecodedFrame& frame,
                       const PrintOptions& o);

// One line: addresses, then what the innermost header says.
std::string frame_summary(const DecodedFrame& frame);
// The detail lines of each decoded header (no trailing newline).
std::string layer_text(const Layer& layer);

nlohmann::json header_json(const TraceInfo& info, const FileHeader& file);
nlohmann::json frame_json(size_t number, const FrameRecord& rec, const DecodedFrame& frame,
                          bool format_tcp);
nlohmann::json layer_json(const Layer& layer);

// 16 bytes a line: offset, hex, printable ASCII.
std::string hex_dump(ByteView data, size_t indent);
// Local time: "17:40:01.123456", or with the date "2026-12-03 17:40:01.123456".
std::string format_time(uint64_t ns_since_epoch, bool with_date);
// UTC, ISO 8601 with microseconds and Z.
std::string format_time_iso(uint64_t ns_since_epoch);

}  // namespace qvpn::trace
