// Fuzz target for the parsers of peer-supplied authentication data: the ID
// payload value, DER names, CERT (X.509 and Hash and URL), CERTREQ, the
// SIGNATURE_HASH_ALGORITHMS list and RFC 7427 AUTH data. The first byte
// picks the parser; the rest is its input.
#include <cstddef>
#include <cstdint>

#include "daemon/ike/auth/auth.hpp"
#include "daemon/ike/auth/cert_fetch.hpp"
#include "daemon/ike/auth/certs.hpp"
#include "daemon/ike/identity.hpp"

using namespace qvpn;
using namespace qvpn::ike;

namespace {

const auth::PublicKey& verify_key() {
    // A fixed P-256 public key (RFC 5903 8.1's initiator point as SPKI).
    static const auth::PublicKey key = [] {
        Bytes spki = *from_hex(
            "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
            "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
            "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
        return *auth::PublicKey::from_spki_der(spki);
    }();
    return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    ByteView in(data + 1, size - 1);
    switch (data[0] % 7) {
    case 0: {
        IkeIdentity id{static_cast<IdType>(in.empty() ? 0 : in[0]),
                       Bytes(in.begin() + (in.empty() ? 0 : 1), in.end())};
        auto r = from_wire(id);
        if (r.ok()) {
            (void)identity_matches(*r, *r);
            (void)to_wire(*r);
        }
        break;
    }
    case 1: {
        auto t = dn_to_text(in);
        if (t.ok()) {
            (void)dn_from_text(*t);
        }
        break;
    }
    case 2: {
        auto c = auth::Certificate::from_der(in);
        if (c.ok()) {
            (void)c->subject_text();
            (void)c->spki_sha1();
            (void)auth::match_identity(*c, {policy::IdType::Fqdn, "gw.example.com"});
        }
        break;
    }
    case 3:
        (void)auth::parse_hash_and_url(in);
        break;
    case 4:
        (void)auth::parse_certreq(in);
        break;
    case 5:
        (void)auth::decode_hash_algorithms(in);
        break;
    case 6:
        (void)auth::verify(AuthMethod::DIGITAL_SIGNATURE, verify_key(), as_view("octets"), in);
        (void)auth::verify(AuthMethod::ECDSA_SHA256_P256, verify_key(), as_view("octets"), in);
        (void)dn_from_text(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));
        break;
    }
    return 0;
}
