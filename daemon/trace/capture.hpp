// Reading frames off an interface: an AF_PACKET socket with a memory-mapped
// TPACKET_V3 receive ring. The kernel fills blocks of frames; the trace job
// walks each finished block and hands it back. Frames the kernel could not
// place because every block was still in use are counted as drops
// (PACKET_STATISTICS), never lost silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/base/result.hpp"
#include "daemon/trace/recorder.hpp"
#include "daemon/trace/trace_file.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

struct CaptureOptions {
    int ifindex = 0;
    LinkType link = LinkType::Ethernet;
    DataDir dtadir = DataDir::Both;
    uint32_t user_bytes = kUserDataAll;  // USRDTA; the kernel copies little more
    size_t block_bytes = 1u << 20;       // one TPACKET_V3 block
    size_t blocks = 4;                   // kernel ring: 4 MiB, outside MAXSTG
    unsigned block_timeout_ms = 20;      // a block is handed over at the latest after this
};

class PacketCapture {
public:
    // TRC0017 with the reason when the socket or its ring cannot be set up.
    static Result<PacketCapture> open(const std::string& ifname, const CaptureOptions& o);
    PacketCapture(PacketCapture&& o) noexcept;
    PacketCapture& operator=(PacketCapture&&) = delete;
    PacketCapture(const PacketCapture&) = delete;
    ~PacketCapture();

    int fd() const { return fd_; }
    // Hands every frame of every finished block to `on_frame` (false: stop
    // handing frames; the block is still released). Returns the frames seen.
    size_t drain(const std::function<bool(const CapturedFrame&)>& on_frame);
    // Frames the kernel dropped since the last call.
    uint64_t take_drops();
    // A pending socket error (ENETDOWN when the interface went down or
    // away), 0 if none. Reading it clears it.
    int take_error();

private:
    PacketCapture() = default;
    int fd_ = -1;
    uint8_t* map_ = nullptr;
    size_t map_bytes_ = 0;
    size_t block_bytes_ = 0;
    size_t blocks_ = 0;
    size_t next_block_ = 0;
};

}  // namespace qvpn::trace
