#include "daemon/ike/identity.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>

#include "core/base/ip.hpp"
#include "core/base/text.hpp"

namespace qvpn::ike {

namespace {

using NamePtr = std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)>;

NamePtr parse_name(ByteView der) {
    const unsigned char* p = der.data();
    X509_NAME* n = d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size()));
    if (n != nullptr && p != der.data() + der.size()) {
        X509_NAME_free(n);
        n = nullptr;
    }
    ERR_clear_error();
    return NamePtr(n, X509_NAME_free);
}

Bytes encode_name(const X509_NAME* n) {
    unsigned char* buf = nullptr;
    int len = i2d_X509_NAME(n, &buf);
    if (len <= 0) {
        return {};
    }
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

bool printable(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return !s.empty();
}

// RFC 4514 2.4 style escaping of the characters that would break parsing.
std::string escape_value(std::string_view v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        bool edge_space = c == ' ' && (i == 0 || i + 1 == v.size());
        if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
            c == '=' || c == '/' || edge_space || (c == '#' && i == 0)) {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

// Splits at unescaped `sep`, keeping escapes for the value parser.
std::vector<std::string> split_unescaped(std::string_view s, char sep) {
    std::vector<std::string> parts(1);
    bool quoted = false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size()) {
            parts.back().push_back(c);
            parts.back().push_back(s[++i]);
            continue;
        }
        if (c == '"') {
            quoted = !quoted;
        }
        if (c == sep && !quoted) {
            parts.emplace_back();
            continue;
        }
        parts.back().push_back(c);
    }
    return parts;
}

std::string unescape_value(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
    }
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            ++i;
        }
        out.push_back(v[i]);
    }
    return out;
}

Failure bad_dn(std::string_view text, std::string_view why) {
    return fail("IKE0132", text, why);
}

NamePtr reversed(const X509_NAME* n) {
    NamePtr out(X509_NAME_new(), X509_NAME_free);
    for (int i = X509_NAME_entry_count(n) - 1; i >= 0; --i) {
        X509_NAME_add_entry(out.get(), X509_NAME_get_entry(n, i), -1, 0);
    }
    return out;
}

}  // namespace

// --- DN text ---------------------------------------------------------------------

Result<Bytes> dn_from_text(std::string_view text) {
    std::string_view t = trim(text);
    if (t.empty()) {
        return bad_dn(text, "empty name");
    }
    // "/C=US/O=Org/CN=x" (OpenSSL one-line form) or "C=US, O=Org, CN=x".
    char sep = ',';
    if (t.front() == '/') {
        t.remove_prefix(1);
        sep = '/';
    }
    NamePtr name(X509_NAME_new(), X509_NAME_free);
    for (const auto& rdn : split_unescaped(t, sep)) {
        bool first_in_rdn = true;
        for (const auto& ava : split_unescaped(rdn, '+')) {
            std::string_view a = trim(ava);
            size_t eq = a.find('=');
            if (eq == std::string_view::npos || eq == 0) {
                return bad_dn(text, "expected attribute=value in '" + std::string(a) + "'");
            }
            std::string key(trim(a.substr(0, eq)));
            std::string value = unescape_value(a.substr(eq + 1));
            // Short names are upper case in OpenSSL's table (CN, OU); accept
            // any case as people type them.
            if (OBJ_txt2nid(key.c_str()) == NID_undef &&
                OBJ_txt2nid(to_upper(key).c_str()) != NID_undef) {
                key = to_upper(key);
            }
            if (OBJ_txt2nid(key.c_str()) == NID_undef) {
                return bad_dn(text, "unknown attribute " + key);
            }
            if (value.empty()) {
                return bad_dn(text, "empty value of " + key);
            }
            if (X509_NAME_add_entry_by_txt(name.get(), key.c_str(), MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(value.data()),
                                           static_cast<int>(value.size()), -1,
                                           first_in_rdn ? 0 : -1) != 1) {
                ERR_clear_error();
                return bad_dn(text, "value of " + key + " is not allowed");
            }
            first_in_rdn = false;
        }
    }
    return encode_name(name.get());
}

Result<std::string> dn_to_text(ByteView der) {
    NamePtr name = parse_name(der);
    if (!name) {
        return fail(msg("IKE0133").with_notify(
            notify_code(NotifyType::INVALID_SYNTAX)));
    }
    std::string out;
    int prev_set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name.get()); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(name.get(), i);
        int set = X509_NAME_ENTRY_set(e);
        if (i > 0) {
            out += set == prev_set ? " + " : ", ";
        }
        prev_set = set;
        const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
        int nid = OBJ_obj2nid(obj);
        if (nid != NID_undef) {
            out += OBJ_nid2sn(nid);
        } else {
            char oid[80];
            OBJ_obj2txt(oid, sizeof oid, obj, 1);
            out += oid;
        }
        out += '=';
        unsigned char* utf8 = nullptr;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (len < 0) {
            ERR_clear_error();
            return fail(msg("IKE0133").with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
        }
        out += escape_value(std::string_view(reinterpret_cast<char*>(utf8), len));
        OPENSSL_free(utf8);
    }
    return out;
}

bool dn_equal(ByteView a_der, ByteView b_der) {
    NamePtr a = parse_name(a_der), b = parse_name(b_der);
    return a && b && X509_NAME_cmp(a.get(), b.get()) == 0;
}

bool dn_matches(ByteView configured_der, ByteView received_der) {
    if (dn_equal(configured_der, received_der)) {
        return true;
    }
    NamePtr a = parse_name(configured_der), b = parse_name(received_der);
    if (!a || !b) {
        return false;
    }
    NamePtr r = reversed(a.get());
    return X509_NAME_cmp(r.get(), b.get()) == 0;
}

// --- identities ------------------------------------------------------------------------

Result<IkeIdentity> to_wire(const policy::Identity& id) {
    auto bad = [&] { return fail("IKE0130", id.value, policy::to_cl(id.type)); };
    switch (id.type) {
    case policy::IdType::IPv4:
    case policy::IdType::IPv6: {
        auto ip = IpAddress::parse(id.value);
        if (!ip || ip->is_v4() != (id.type == policy::IdType::IPv4)) {
            return bad();
        }
        return IkeIdentity{ip->is_v4() ? ike::IdType::ID_IPV4_ADDR : ike::IdType::ID_IPV6_ADDR,
                           Bytes(ip->data(), ip->data() + ip->size())};
    }
    case policy::IdType::Fqdn:
        if (!printable(id.value) || id.value.find('@') != std::string::npos) {
            return bad();
        }
        return IkeIdentity{ike::IdType::ID_FQDN, Bytes(id.value.begin(), id.value.end())};
    case policy::IdType::UserFqdn: {
        size_t at = id.value.rfind('@');
        if (!printable(id.value) || at == std::string::npos || at + 1 == id.value.size()) {
            return bad();
        }
        return IkeIdentity{ike::IdType::ID_RFC822_ADDR, Bytes(id.value.begin(), id.value.end())};
    }
    case policy::IdType::KeyId: {
        auto raw = from_hex(id.value);
        if (!raw.ok() || raw->empty()) {
            return bad();
        }
        return IkeIdentity{ike::IdType::ID_KEY_ID, *raw};
    }
    case policy::IdType::Dn: {
        auto der = dn_from_text(id.value);
        if (!der.ok()) {
            return der.failure();
        }
        return IkeIdentity{ike::IdType::ID_DER_ASN1_DN, *der};
    }
    case policy::IdType::AnyIp:
        break;
    }
    return bad();
}

Result<policy::Identity> from_wire(const IkeIdentity& id) {
    auto bad = [&](const char* why) {
        return fail(msg("IKE0131", static_cast<int>(id.type), why)
                        .with_notify(notify_code(NotifyType::INVALID_SYNTAX)));
    };
    std::string_view text(reinterpret_cast<const char*>(id.data.data()), id.data.size());
    switch (id.type) {
    case ike::IdType::ID_IPV4_ADDR:
    case ike::IdType::ID_IPV6_ADDR: {
        size_t want = id.type == ike::IdType::ID_IPV4_ADDR ? 4 : 16;
        if (id.data.size() != want) {
            return bad("address of the wrong length");
        }
        auto ip = IpAddress::from_bytes(id.data.data(), id.data.size());
        if (!ip) {
            return bad("address of the wrong length");
        }
        return policy::Identity{want == 4 ? policy::IdType::IPv4 : policy::IdType::IPv6,
                                ip->to_string()};
    }
    case ike::IdType::ID_FQDN:
        if (!printable(text)) {
            return bad("empty or not printable ASCII");
        }
        return policy::Identity{policy::IdType::Fqdn, std::string(text)};
    case ike::IdType::ID_RFC822_ADDR:
        if (!printable(text)) {
            return bad("empty or not printable ASCII");
        }
        return policy::Identity{policy::IdType::UserFqdn, std::string(text)};
    case ike::IdType::ID_KEY_ID:
        if (id.data.empty()) {
            return bad("empty key ID");
        }
        return policy::Identity{policy::IdType::KeyId, to_upper(to_hex(id.data))};
    case ike::IdType::ID_DER_ASN1_DN: {
        auto t = dn_to_text(id.data);
        if (!t.ok()) {
            return bad("not a DER encoded Name");
        }
        return policy::Identity{policy::IdType::Dn, *t};
    }
    case ike::IdType::ID_DER_ASN1_GN:
        break;
    }
    return bad("identity type not supported");
}

bool identity_matches(const policy::Identity& configured, const policy::Identity& received) {
    if (configured.type == policy::IdType::AnyIp) {
        return received.type == policy::IdType::IPv4 || received.type == policy::IdType::IPv6;
    }
    if (configured.type != received.type) {
        return false;
    }
    switch (configured.type) {
    case policy::IdType::IPv4:
    case policy::IdType::IPv6: {
        auto a = IpAddress::parse(configured.value), b = IpAddress::parse(received.value);
        return a && b && *a == *b;
    }
    case policy::IdType::Fqdn: {
        // DNS names compare case-insensitively; a trailing root dot is the same name.
        auto strip = [](std::string_view s) {
            return !s.empty() && s.back() == '.' ? s.substr(0, s.size() - 1) : s;
        };
        return !configured.value.empty() && iequals(strip(configured.value), strip(received.value));
    }
    case policy::IdType::UserFqdn: {
        // The local part is case-sensitive (RFC 5321 2.4), the domain is not.
        size_t a = configured.value.rfind('@'), b = received.value.rfind('@');
        if (a == std::string::npos || b == std::string::npos) {
            return false;
        }
        return configured.value.compare(0, a, received.value, 0, b) == 0 && a == b &&
               iequals(std::string_view(configured.value).substr(a),
                       std::string_view(received.value).substr(b));
    }
    case policy::IdType::KeyId: {
        auto a = from_hex(configured.value), b = from_hex(received.value);
        return a.ok() && b.ok() && !a->empty() && *a == *b;
    }
    case policy::IdType::Dn: {
        auto a = dn_from_text(configured.value), b = dn_from_text(received.value);
        return a.ok() && b.ok() && dn_matches(*a, *b);
    }
    case policy::IdType::AnyIp:
        break;
    }
    return false;
}

std::string identity_text(const policy::Identity& id) {
    return std::string(policy::to_cl(id.type)) + ":" + id.value;
}

}  // namespace qvpn::ike
