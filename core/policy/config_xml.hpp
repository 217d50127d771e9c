// The VPN configuration as an XML stream file (CPYVPNCFGF), format version 1.
// The schema is core/policy/qvpn-config.xsd (installed in share/qvpn); the
// reader checks the same rules in code: element and attribute names, required
// attributes, value spellings (the CL special values), and then every object
// with the checks the database applies (checks.hpp). Problems are reported
// with the file's line, the element and the reason; nothing is imported when
// anything is wrong.
//
// Keys (preshared keys, manual keys, certificate private keys) appear only
// when exported with KEYS(*ENCRYPT), each sealed with AES-256-GCM under a key
// derived from the operator's passphrase with scrypt (secret_box.hpp "box").
// A file is written deterministically from the database, so exporting,
// importing into another system and exporting again gives the same file
// (with KEYS(*OMIT); encrypted keys use a fresh salt and nonces each time).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"
#include "core/policy/policy_db.hpp"
#include "core/policy/secret_box.hpp"

namespace qvpn::policy {

inline constexpr int kConfigFormatVersion = 1;

// The file's content as objects. `line` fields give where each object
// starts, for messages.
struct ConfigDocument {
    std::optional<crypto::ScryptParams> key_protection;
    std::optional<VpnAttributes> attributes;
    std::optional<VpnDefaults> defaults;
    std::vector<Line> lines;

    struct Certificate {
        CertificateInfo info;
        Bytes boxed_key;  // empty: not in the file
        size_t line = 0;
    };
    std::vector<Certificate> certificates;

    struct Key {
        KeyPolicy policy;  // has_psk: a key is in the file
        Bytes boxed_psk;
        size_t line = 0;
    };
    std::vector<Key> key_policies;

    struct Data {
        DataPolicy policy;
        size_t line = 0;
    };
    std::vector<Data> data_policies;

    struct Group {
        DynamicGroup group;
        std::vector<DynamicConnection> connections;
        size_t line = 0;
    };
    std::vector<Group> groups;  // in search order

    struct Manual {
        ManualConnection connection;  // has_keys: keys are in the file
        Bytes boxed_keys;
        size_t line = 0;
    };
    std::vector<Manual> manual_connections;
};

// Parse and check a file. XML0001-XML0009 for problems, with line numbers.
Result<ConfigDocument> parse_config(std::string_view xml);

// The file text of a document (keys boxed already).
std::string write_config(const ConfigDocument& doc);

struct ExportOptions {
    std::vector<std::string> groups;  // empty: everything
    bool keys = false;                // KEYS(*ENCRYPT)
    std::string passphrase;
    uint64_t scrypt_n = 32768;        // cost; tests use less
};

// Build the file text from the database. With keys, every key is decrypted
// (root only) and boxed under the passphrase.
Result<std::string> export_config(PolicyDb& db, const ExportOptions& opt);

struct ImportOptions {
    std::vector<std::string> groups;  // empty: everything in the file
    bool replace = false;             // REPLACE(*YES): the file replaces the configuration
    bool keys = false;                // KEYS(*ENCRYPT): import the file's keys
    std::string passphrase;
};

struct ImportResult {
    int objects = 0;          // configuration objects created
    int keys = 0;             // keys imported
    int keys_left_out = 0;    // keys the file had but were not imported, or lacked
    std::vector<Msg> notes;   // diagnostics (certificates kept or skipped ...)
};

// Apply a document in one transaction: all of it or nothing.
Result<ImportResult> import_config(PolicyDb& db, const ConfigDocument& doc,
                                   const ImportOptions& opt);

}  // namespace qvpn::policy
