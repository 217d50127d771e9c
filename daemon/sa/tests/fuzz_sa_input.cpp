// Fuzz target: everything the SA backends parse from outside -- ESP and AH
// packets (opened with fixed keys, so the ICV check, padding and length
// branches all run), inner packets' flows, IPComp streams, ChildSa JSON,
// XFRM netlink messages, and replay window inputs. The first byte picks the
// parser; the rest is its input. Nothing may crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "daemon/sa/replay.hpp"
#include "daemon/sa/sa_json.hpp"
#include "daemon/sa/selector.hpp"
#include "daemon/sa/userspace/ah.hpp"
#include "daemon/sa/userspace/esp_crypto.hpp"
#include "daemon/sa/userspace/ipcomp.hpp"
#include "daemon/sa/xfrm/xfrm_msg.hpp"

using namespace qvpn;
using namespace qvpn::sa;

namespace {

SaKeys keys(ike::EncrId e, unsigned bits, size_t bytes, ike::IntegId i, size_t ibytes) {
    SaKeys k;
    k.spi = 0x1001;
    k.encr = e;
    k.encr_key_bits = uint16_t(bits);
    k.encr_key = SecretBytes(bytes);
    k.integ = i;
    k.integ_key = SecretBytes(ibytes);
    return k;
}

struct Ctx {
    std::unique_ptr<us::EspTransform> gcm, cbc, nul;
    std::unique_ptr<us::AhTransform> ah;
    us::Deflater deflater;
    Ctx() {
        gcm = std::move(*us::EspTransform::create(
            keys(ike::EncrId::ENCR_AES_GCM_16, 128, 20, ike::IntegId::NONE, 0), true, false));
        cbc = std::move(*us::EspTransform::create(
            keys(ike::EncrId::ENCR_AES_CBC, 128, 16, ike::IntegId::AUTH_HMAC_SHA2_256_128, 32),
            false, false));
        // NULL encryption with a known key lets inputs get past the ICV when
        // a corpus entry carries a valid one.
        nul = std::move(*us::EspTransform::create(
            keys(ike::EncrId::ENCR_NULL, 0, 0, ike::IntegId::AUTH_HMAC_SHA1_96, 20), false,
            false));
        ah = std::move(*us::AhTransform::create(
            keys(ike::EncrId::ENCR_NULL, 0, 0, ike::IntegId::AUTH_HMAC_SHA1_96, 20), false));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Ctx ctx;
    if (size < 1) {
        return 0;
    }
    uint8_t which = data[0];
    ByteView in(data + 1, size - 1);
    std::vector<uint8_t> mem(in.size() + 512);
    us::Pkt p;
    p.buf = mem.data();
    p.cap = mem.size();
    p.reset(256);
    std::memcpy(p.put(in.size()), in.data(), in.size());
    uint8_t nh = 0;
    switch (which % 10) {
    case 0: (void)ctx.gcm->open(p, 5, nh); break;
    case 1: (void)ctx.cbc->open(p, 5, nh); break;
    case 2: (void)ctx.nul->open(p, 5, nh); break;
    case 3:
        (void)ctx.ah->open(p, *IpAddress::parse("192.0.2.1"), *IpAddress::parse("192.0.2.2"), 1,
                           nh);
        break;
    case 4:
        (void)ctx.ah->open(p, *IpAddress::parse("2001:db8::1"), *IpAddress::parse("2001:db8::2"),
                           1, nh);
        break;
    case 5: {
        PacketFlow f;
        (void)parse_flow(in, f);
        break;
    }
    case 6: {
        std::vector<uint8_t> out(70000);
        (void)ctx.deflater.decompress(in.data(), in.size(), out.data(), out.size());
        break;
    }
    case 7: {
        auto sa = child_sa_from_text(std::string_view(reinterpret_cast<const char*>(in.data()),
                                                      in.size()));
        if (sa) {
            (void)validate(*sa);
            (void)xfrm::states_for(*sa);
            (void)xfrm::policies_for(xfrm::plan_of(*sa));
        }
        break;
    }
    case 8: {
        // A netlink message: header from the input, length clamped to it.
        std::vector<uint8_t> m(in.begin(), in.end());
        m.resize(std::max(m.size(), size_t(NLMSG_HDRLEN)));
        auto* h = reinterpret_cast<nlmsghdr*>(m.data());
        h->nlmsg_len = uint32_t(std::min<size_t>(h->nlmsg_len, m.size()));
        if (h->nlmsg_len < NLMSG_HDRLEN) {
            h->nlmsg_len = NLMSG_HDRLEN;
        }
        xfrm::StateInfo s;
        xfrm::PolicyInfo pi;
        xfrm::AcquireInfo a;
        bool hard = false;
        (void)xfrm::parse_state(h, s, &hard);
        (void)xfrm::parse_policy(h, pi);
        (void)xfrm::parse_acquire(h, a);
        (void)xfrm::for_each_msg(m.data(), m.size(), [](const nlmsghdr*) { return true; });
        break;
    }
    case 9: {
        ReplayWindow w(1 + (in.empty() ? 0 : in[0]) * 16, !in.empty() && (in[0] & 1));
        for (size_t i = 0; i + 4 <= in.size(); i += 4) {
            uint32_t lo = uint32_t(in[i]) << 24 | uint32_t(in[i + 1]) << 16 |
                          uint32_t(in[i + 2]) << 8 | in[i + 3];
            auto c = w.check(lo);
            if (c.verdict == ReplayWindow::Verdict::Ok) {
                w.accept(c.seq);
            }
        }
        break;
    }
    }
    return 0;
}
