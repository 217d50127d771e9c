// The policy database: one SQLite file per system ($QVPN_ROOT/policy.db)
// holding the whole VPN object model of model.hpp, the certificate store and
// the connection runtime states.
//
// How to use it (daemons):
//
//   QVPN_ASSIGN(auto db, PolicyDb::open(paths::policy_db(), Access::ReadOnly));
//   QVPN_ASSIGN(ConnectionPolicy cp, db.resolve("HRgw2FINgw"));   // or "HRgw2FINgw:L1"
//   // cp.key.psk holds the preshared key in clear (root only).
//
//   QVPN_ASSIGN(auto m, db.find_responder(peer_id, peer_addr));   // IKE responder
//   if (m) { ... m->key, m->group, m->data, m->connection ... }
//
//   // connection manager (opens Access::ReadWrite):
//   db.set_state({.name = "HRgw2FINgw:L1", .type = ConnectionType::Dynamic,
//                 .state = ConnectionState::Enabled, .group = "HRgw2FINgw"});
//
// Rules the database keeps, whoever writes:
// - Names are 1-40 characters, unique per object type without regard to
//   case (COLLATE NOCASE), stored as typed. Dynamic-key and manual
//   connections share one name space (STRVPNCNN takes either).
// - Every changing call is one BEGIN IMMEDIATE transaction (or joins the one
//   transaction() opened), so concurrent writers wait for each other (busy
//   timeout 5 s) and nothing is ever half written. WAL mode, foreign keys on.
// - A referenced object cannot be deleted (PDB0110), and an object used by a
//   connection whose state is not *IDLE or *ERROR cannot be changed or
//   deleted (PDB0111, "Unable to update the object").
// - Keys (preshared keys, manual keys, certificate private keys) are sealed
//   to the system key pair (secret_box.hpp) and never read back by list or
//   load calls: those set has_psk / has_keys / has_private_key only. Only
//   resolve(), find_responder(), resolve_manual() and certificate_key()
//   decrypt, which needs root.
// - Saving a key: a non-empty psk replaces the stored key; an empty psk with
//   has_psk == true keeps the stored key; has_psk == false erases it. The
//   same holds for ManualConnection (keys / has_keys).
//
// A PolicyDb is one SQLite connection: use it from one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/ip.hpp"
#include "core/base/result.hpp"
#include "core/policy/model.hpp"

namespace qvpn::policy {

namespace sql {
class Database;
}

enum class Access {
    ReadOnly,   // the file must exist; every write fails with PDB0006
    ReadWrite,  // created (with its schema) when missing
};

// The schema version this code writes. Opening a database with a newer
// version fails with PDB0002; an older one is migrated on open.
int code_schema_version();

// What a key manager needs to answer an initiator it does not know yet.
struct ResponderMatch {
    KeyPolicy key;            // PSK in clear for *PSK
    DynamicGroup group;       // the first group (in group order) serving the peer
    DataPolicy data;          // the group's data policy
    VpnAttributes attributes;
    // The group's configured connection whose remote key server identifier
    // is the peer's, when there is one (its data endpoints narrow the
    // traffic selectors); otherwise the responder builds "<group>:R<n>".
    std::optional<DynamicConnection> connection;
};

// A manual connection with its keys in clear.
struct ManualPolicy {
    ManualConnection connection;
    VpnAttributes attributes;
};

// A certificate with its private key (PKCS#8 DER) in clear.
struct CertificateKey {
    CertificateInfo info;
    SecretBytes private_key_der;
};

class PolicyDb {
public:
    // `secret_dir` holds system.key/system.pub; empty: "secret" next to the
    // database file (which is paths::secret_dir() for paths::policy_db()).
    static Result<PolicyDb> open(const std::string& path, Access access,
                                 const std::string& secret_dir = "");
    PolicyDb(PolicyDb&&) noexcept;
    PolicyDb& operator=(PolicyDb&&) noexcept;
    ~PolicyDb();

    const std::string& path() const;
    const std::string& secret_dir() const;
    Access access() const;
    Result<int> schema_version();

    // Run `body` in one transaction: the calls it makes join it, and it
    // commits only when `body` succeeds. Nested calls join the outer one.
    Status transaction(const std::function<Status()>& body);

    // --- key exchange (IKE) policies -------------------------------------
    Result<std::vector<KeyPolicy>> list_key_policies();          // by name
    Result<KeyPolicy> load_key_policy(std::string_view name);    // PDB0101
    Result<bool> key_policy_exists(std::string_view name);
    Status create_key_policy(const KeyPolicy& p);                // PDB0102
    Status update_key_policy(const KeyPolicy& p);
    Status delete_key_policy(std::string_view name);

    // --- data policies ------------------------------------------------------
    Result<std::vector<DataPolicy>> list_data_policies();
    Result<DataPolicy> load_data_policy(std::string_view name);  // PDB0103
    Result<bool> data_policy_exists(std::string_view name);
    Status create_data_policy(const DataPolicy& p);              // PDB0104
    Status update_data_policy(const DataPolicy& p);
    Status delete_data_policy(std::string_view name);

    // --- dynamic-key groups (in group order) --------------------------------
    Result<std::vector<DynamicGroup>> list_groups();
    Result<DynamicGroup> load_group(std::string_view name);      // PDB0105
    Result<bool> group_exists(std::string_view name);
    // position 0: last; 1: first; n: before the group now at n.
    Status create_group(const DynamicGroup& g, int position = 0);
    Status update_group(const DynamicGroup& g);
    Status move_group(std::string_view name, int position);
    Status delete_group(std::string_view name);                  // refused with connections

    // --- dynamic-key connections ------------------------------------------
    Result<std::vector<DynamicConnection>> list_connections();   // by name
    Result<std::vector<DynamicConnection>> list_connections(std::string_view group);
    Result<DynamicConnection> load_connection(std::string_view name);  // PDB0107
    Status create_connection(const DynamicConnection& c);        // PDB0108
    Status update_connection(const DynamicConnection& c);
    Status delete_connection(std::string_view name);

    // --- manual connections --------------------------------------------------
    Result<std::vector<ManualConnection>> list_manual_connections();
    Result<ManualConnection> load_manual_connection(std::string_view name);  // PDB0109
    Status create_manual_connection(const ManualConnection& c);
    Status update_manual_connection(const ManualConnection& c);
    Status delete_manual_connection(std::string_view name);

    // --- lines (CRTLINETH) ---------------------------------------------------
    Result<std::vector<Line>> list_lines();
    Result<Line> load_line(std::string_view name);               // CPF2601
    Status create_line(const Line& l);
    Status update_line(const Line& l);
    Status delete_line(std::string_view name);                   // refused while referenced
    // The Linux interface of a line name: the line's RSRCNAME, or the name
    // itself when no line description exists.
    Result<std::string> line_interface(std::string_view name);

    // --- global settings -------------------------------------------------------
    Result<VpnAttributes> attributes();
    Status set_attributes(const VpnAttributes& a);
    Result<VpnDefaults> defaults();
    Status set_defaults(const VpnDefaults& d);
    // System values by IBM i name (model.hpp kQRETSVRSEC ...), as text.
    Result<std::string> system_value(std::string_view name);     // PDB0020
    // Normalizes the value first. Setting QRETSVRSEC to '0' erases every
    // stored preshared and manual key; `keys_erased` receives how many.
    Status set_system_value(std::string_view name, std::string_view value,
                            int* keys_erased = nullptr);
    Result<DataPath> data_path();                                // QVPNDTAPTH

    // --- connection runtime states (written by the connection manager) ------
    // Insert or replace the row for s.name. `since` 0 means now; error fields
    // empty keep no error.
    Status set_state(const ConnectionStatus& s);
    Result<std::optional<ConnectionStatus>> get_state(std::string_view name);
    Result<std::vector<ConnectionStatus>> list_states();         // by name
    Status clear_state(std::string_view name);
    // Every state row back to *IDLE (the connection manager at its start).
    Status reset_states();

    // --- for the daemons (decrypt keys: root only) ----------------------------
    // A dynamic-key connection by name, or a group's single connection by the
    // group's name (PDB0041 when the group has several or none). The key
    // policy is the first key policy, trying groups in group order, whose
    // remote key server identifier is the connection's (exact identifier
    // first, then a *ANYIP policy for an IP identifier).
    Result<ConnectionPolicy> resolve(std::string_view conn_or_group);
    // For an IKE responder: groups in group order, each group's key policies
    // in order; the first whose remote identifier equals peer_identity wins,
    // else the first *ANYIP policy ("any IP address": any peer). The caller
    // refuses the peer when the group's INITIATOR is *LOCAL.
    // nullopt: no group serves this peer.
    Result<std::optional<ResponderMatch>> find_responder(const Identity& peer_identity,
                                                         const IpAddress& peer_address);
    Result<ManualPolicy> resolve_manual(std::string_view name);
    // A key policy's preshared key in clear (CPYVPNCFGF KEYS(*ENCRYPT)).
    Result<SecretBytes> key_policy_psk(std::string_view name);
    // Which key policy (and the group listing it) resolve() would use for a
    // remote key server identifier, without decrypting anything.
    struct KeyPolicyRef {
        std::string key_policy;
        std::string group;
    };
    Result<std::optional<KeyPolicyRef>> key_policy_for(const Identity& remote_id);

    // --- certificate store (DCM) --------------------------------------------
    Result<std::vector<CertificateInfo>> list_certificates();    // by label
    Result<CertificateInfo> load_certificate(std::string_view label);  // DCM0001
    // A *SYSTEM certificate needs its private key (PKCS#8 DER); a *CA has none.
    Status add_certificate(const CertificateInfo& c, const SecretBytes& private_key_der);
    Status remove_certificate(std::string_view label);           // refused while used
    Result<CertificateKey> certificate_key(std::string_view label);
    Result<std::vector<CertificateInfo>> trusted_cas();

    // --- whole configuration ------------------------------------------------------
    // Delete every configuration object (not states, system values or
    // certificates); refused while any connection is active.
    Status erase_configuration();
    // Delete every certificate (CPYVPNCFGF REPLACE(*YES) with certificates).
    Status erase_certificates();

    // Seal a key for storage (honours QRETSVRSEC) and open one (root).
    Result<Bytes> seal_key(ByteView clear, std::string_view context);
    Result<SecretBytes> open_key(ByteView sealed, std::string_view context);

    sql::Database& database();

private:
    struct Impl;
    explicit PolicyDb(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Identity comparison as the lookups use it: addresses by value, names
// without regard to case.
bool same_identity(const Identity& a, const Identity& b);

}  // namespace qvpn::policy
