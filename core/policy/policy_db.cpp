#include "core/policy/policy_db.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/base/text.hpp"
#include "core/policy/checks.hpp"
#include "core/policy/schema.hpp"
#include "core/policy/secret_box.hpp"
#include "core/policy/sqlite.hpp"

namespace qvpn::policy {

using sql::Stmt;

namespace {

constexpr std::string_view kPskContext = "PSK";
constexpr std::string_view kManualContext = "MANUAL";
constexpr std::string_view kCertKeyContext = "CERTKEY";
constexpr char kValueSep = '\x1f';

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

template <class T>
T enum_or(std::string_view text, T fallback) {
    auto v = from_cl<T>(text);
    return v ? *v : fallback;
}

std::string join_values(const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        out += i ? std::string(1, kValueSep) : std::string();
        out += v[i];
    }
    return out;
}

std::vector<std::string> split_values(const std::string& s) {
    if (s.empty()) {
        return {};
    }
    return split(s, kValueSep);
}

// Manual keys travel sealed as one blob: six length-prefixed fields.
Bytes pack_manual_keys(const ManualConnection& c) {
    ByteWriter w;
    for (const SecretBytes* k : {&c.esp.enc_in, &c.esp.enc_out, &c.esp.auth_in, &c.esp.auth_out,
                                 &c.ah.auth_in, &c.ah.auth_out}) {
        w.u16(static_cast<uint16_t>(k->size())).bytes(k->view());
    }
    return w.take();
}

bool unpack_manual_keys(ByteView b, ManualConnection& c) {
    ByteReader r(b);
    for (SecretBytes* k : {&c.esp.enc_in, &c.esp.enc_out, &c.esp.auth_in, &c.esp.auth_out,
                           &c.ah.auth_in, &c.ah.auth_out}) {
        uint16_t n = r.u16();
        *k = SecretBytes(r.bytes(n));
    }
    return r.at_end();
}

bool manual_keys_given(const ManualConnection& c) {
    return !c.esp.enc_in.empty() || !c.esp.enc_out.empty() || !c.esp.auth_in.empty() ||
           !c.esp.auth_out.empty() || !c.ah.auth_in.empty() || !c.ah.auth_out.empty();
}

std::string ep_type(const DataEndpoint& e) { return std::string(to_cl(e.type)); }

DataEndpoint read_ep(const Stmt& st, int col) {
    return {enum_or(st.text(col), EndpointType::Any), st.text(col + 1), st.text(col + 2)};
}

Identity read_id(const Stmt& st, int col) {
    return {enum_or(st.text(col), IdType::IPv4), st.text(col + 1)};
}

// Give the database file the group qvpnadm and mode 0660, so the operators
// holding *IOSYSCFG (root and qvpnadm) can configure. SQLite creates the
// -wal and -shm files beside it when it opens the database, so the
// directory gets group write permission for qvpnadm too. Failures are not
// fatal: without the group, only root configures.
void share_with_admins(const std::string& path, const std::string& dir) {
    ::chmod(path.c_str(), 0660);
    struct group* g = getgrnam("qvpnadm");
    if (g == nullptr) {
        return;
    }
    if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return;
    }
    struct stat st{};
    if (!dir.empty() && ::stat(dir.c_str(), &st) == 0 && st.st_uid == ::geteuid() &&
        ::chown(dir.c_str(), static_cast<uid_t>(-1), g->gr_gid) == 0) {
        ::chmod(dir.c_str(), (st.st_mode & 07777) | S_IRWXG | S_ISGID);
    }
}

}  // namespace

int code_schema_version() { return migrations().back().version; }

bool same_identity(const Identity& a, const Identity& b) {
    if (a.type != b.type) {
        return false;
    }
    if (a.type == IdType::IPv4 || a.type == IdType::IPv6) {
        auto x = IpAddress::parse(a.value);
        auto y = IpAddress::parse(b.value);
        return x && y && *x == *y;
    }
    if (a.type == IdType::AnyIp) {
        return true;
    }
    return iequals(trim(a.value), trim(b.value));
}

struct PolicyDb::Impl {
    sql::Database db;
    std::string path;
    std::string secret_dir;
    Access access = Access::ReadOnly;
    int depth = 0;  // transaction nesting
    // Preshared keys already unsealed, by their sealed bytes: a responder
    // looks its key policy up for every peer, and unsealing (reading the
    // system key, an X25519 agreement) cost more than the rest of the
    // lookup. A changed key is sealed anew, so it is never found here.
    std::map<Bytes, SecretBytes> psk_clear;
    static constexpr size_t kPskClearMax = 256;

    // Run `body` inside the write transaction (joining an open one).
    Status write(const std::function<Status()>& body) {
        if (access == Access::ReadOnly) {
            return fail("PDB0006", path);
        }
        if (depth > 0) {
            return body();
        }
        QVPN_ASSIGN(sql::Transaction txn, sql::Transaction::begin(db));
        ++depth;
        Status st = body();
        --depth;
        if (!st.ok()) {
            return st;  // txn rolls back
        }
        return txn.commit();
    }

    Result<int64_t> id_of(std::string_view table, std::string_view name_col,
                          std::string_view name) {
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT id FROM " + std::string(table) + " WHERE " +
                                        std::string(name_col) + " = ?1"));
        st.bind(1, name);
        QVPN_ASSIGN(bool row, st.step());
        return row ? st.integer(0) : int64_t{0};
    }

    Result<std::string> name_of(std::string_view table, int64_t id) {
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT name FROM " + std::string(table) + " WHERE id = ?1"));
        st.bind(1, id);
        QVPN_ASSIGN(bool row, st.step());
        return row ? st.text(0) : std::string();
    }

    // The id of `name`, or the message `missing` naming it when there is none.
    Result<int64_t> existing_id(std::string_view table, std::string_view name_col,
                                std::string_view name, const char* missing) {
        QVPN_ASSIGN(int64_t id, id_of(table, name_col, name));
        if (id == 0) {
            return fail(missing, std::string(name));
        }
        return id;
    }

    // Every id `sql` returns, in its order.
    Result<std::vector<int64_t>> ids(const std::string& sql) {
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        std::vector<int64_t> out;
        for (;;) {
            QVPN_ASSIGN(bool row, st.step());
            if (!row) {
                return out;
            }
            out.push_back(st.integer(0));
        }
    }

    // Each object of `ids`, read by `by_id`.
    template <typename T, typename ById>
    Result<std::vector<T>> each(const std::vector<int64_t>& ids, ById by_id) {
        std::vector<T> out;
        for (int64_t id : ids) {
            QVPN_ASSIGN(T v, by_id(id));
            out.push_back(std::move(v));
        }
        return out;
    }

    // The first name `sql` finds for ?1 = id: who still refers to an object.
    Result<std::optional<std::string>> first_user(const std::string& sql, int64_t id) {
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return std::optional<std::string>{};
        }
        return std::optional<std::string>{st.text(0)};
    }

    Status delete_id(std::string_view table, int64_t id) {
        QVPN_ASSIGN(Stmt del, db.prepare("DELETE FROM " + std::string(table) + " WHERE id = ?1"));
        del.bind(1, id);
        return del.run();
    }

    // --- settings ---
    Result<std::optional<std::string>> setting(std::string_view scope, std::string_view name) {
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT value FROM setting WHERE scope = ?1 AND name = ?2"));
        st.bind(1, scope).bind(2, name);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return std::optional<std::string>();
        }
        return std::optional<std::string>(st.text(0));
    }

    Status set_setting(std::string_view scope, std::string_view name, std::string_view value) {
        QVPN_ASSIGN(Stmt st, db.prepare("INSERT INTO setting(scope, name, value) VALUES(?1, ?2, ?3) "
                                        "ON CONFLICT(scope, name) DO UPDATE SET value = ?3"));
        st.bind(1, scope).bind(2, name).bind(3, value);
        return st.run();
    }

    Result<std::string> sysval(std::string_view name) {
        const SystemValueDef* def = nullptr;
        for (const auto& d : system_value_defs()) {
            if (iequals(d.name, name)) {
                def = &d;
            }
        }
        if (def == nullptr) {
            return fail("PDB0020", std::string(name));
        }
        QVPN_ASSIGN(auto v, setting("sysval", def->name));
        return v ? *v : std::string(def->default_value);
    }

    // --- keys ---
    Result<Bytes> seal(ByteView clear, std::string_view context, bool honour_retain) {
        if (honour_retain) {
            QVPN_ASSIGN(std::string retain, sysval(kQRETSVRSEC));
            if (retain != "1") {
                return fail("PDB0013");
            }
        }
        if (!crypto::system_key_exists(secret_dir)) {
            QVPN_TRY(crypto::ensure_system_key(secret_dir));
        }
        QVPN_ASSIGN(Bytes pub, crypto::load_system_public(secret_dir));
        return crypto::seal(pub, clear, context);
    }

    Result<SecretBytes> unseal(ByteView sealed, std::string_view context) {
        QVPN_ASSIGN(SecretBytes priv, crypto::load_system_private(secret_dir));
        return crypto::unseal(priv, sealed, context);
    }

    // --- "Unable to update the object" ---
    // The first active connection among the group's (configured connections
    // and responder connections recorded with the group's name).
    Result<std::optional<std::pair<std::string, std::string>>> active_in_group(int64_t group_id,
                                                                               std::string_view group) {
        QVPN_ASSIGN(Stmt st, db.prepare(
            "SELECT s.name, s.state FROM connection_state s "
            "WHERE (s.group_name = ?1 OR s.name IN "
            "       (SELECT name FROM dyn_connection WHERE group_id = ?2)) "
            "  AND s.state NOT IN ('*IDLE', '*ERROR') ORDER BY s.name LIMIT 1"));
        st.bind(1, group).bind(2, group_id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return std::optional<std::pair<std::string, std::string>>();
        }
        return std::optional<std::pair<std::string, std::string>>({st.text(0), st.text(1)});
    }

    Status refuse_if_group_active(int64_t group_id, std::string_view kind,
                                  std::string_view object) {
        QVPN_ASSIGN(std::string gname, name_of("dyn_group", group_id));
        QVPN_ASSIGN(auto active, active_in_group(group_id, gname));
        if (active) {
            return fail("PDB0111", std::string(kind), std::string(object), active->first,
                        active->second);
        }
        return {};
    }

    Status refuse_if_conn_active(std::string_view name, std::string_view kind) {
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT name, state FROM connection_state WHERE name = ?1 "
                                        "AND state NOT IN ('*IDLE', '*ERROR')"));
        st.bind(1, name);
        QVPN_ASSIGN(bool row, st.step());
        if (row) {
            return fail("PDB0111", std::string(kind), std::string(name), st.text(0), st.text(1));
        }
        return {};
    }

    Status refuse_if_groups_active(std::string_view query, int64_t id, std::string_view kind,
                                   std::string_view object) {
        QVPN_ASSIGN(Stmt st, db.prepare(query));
        st.bind(1, id);
        std::vector<int64_t> groups;
        for (;;) {
            QVPN_ASSIGN(bool row, st.step());
            if (!row) {
                break;
            }
            groups.push_back(st.integer(0));
        }
        for (int64_t g : groups) {
            QVPN_TRY(refuse_if_group_active(g, kind, object));
        }
        return {};
    }

    // --- loaders ---
    Result<KeyPolicy> key_policy_by_id(int64_t id) {
        QVPN_ASSIGN(Stmt st, db.prepare(
            "SELECT k.name, k.remote_type, k.remote_value, k.auth, k.psk IS NOT NULL, "
            "       COALESCE(c.label, ''), k.initiator_mode, k.lifetime_minutes, k.lifetime_kb, "
            "       k.created_by, k.text "
            "FROM key_policy k LEFT JOIN certificate c ON c.id = k.cert_id WHERE k.id = ?1"));
        st.bind(1, id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return fail("QVP0003", "policy database", "key policy row vanished");
        }
        KeyPolicy p;
        p.name = st.text(0);
        p.remote = read_id(st, 1);
        p.auth = enum_or(st.text(3), AuthMethod::Psk);
        p.has_psk = st.boolean(4);
        p.cert_label = st.text(5);
        p.initiator_mode = enum_or(st.text(6), NegotiationMode::Main);
        p.lifetime_minutes = static_cast<int>(st.integer(7));
        p.lifetime_kb = static_cast<int>(st.integer(8));
        p.created_by = st.text(9);
        p.text = st.text(10);
        QVPN_ASSIGN(Stmt tf, db.prepare("SELECT encryption, hash, dh_group FROM key_transform "
                                        "WHERE policy_id = ?1 ORDER BY seq"));
        tf.bind(1, id);
        for (;;) {
            QVPN_ASSIGN(bool r, tf.step());
            if (!r) {
                break;
            }
            p.transforms.push_back({enum_or(tf.text(0), Encr::AesCbc128),
                                    enum_or(tf.text(1), Hash::Sha256),
                                    enum_or(tf.text(2), DhGroup::Grp19)});
        }
        return p;
    }

    Result<DataPolicy> data_policy_by_id(int64_t id) {
        QVPN_ASSIGN(Stmt st, db.prepare(
            "SELECT name, pfs, mode, lifetime_minutes, lifetime_kb, ipcomp, created_by, text "
            "FROM data_policy WHERE id = ?1"));
        st.bind(1, id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return fail("QVP0003", "policy database", "data policy row vanished");
        }
        DataPolicy p;
        p.name = st.text(0);
        p.pfs = enum_or(st.text(1), DhGroup::None);
        p.mode = enum_or(st.text(2), Mode::Tunnel);
        p.lifetime_minutes = static_cast<int>(st.integer(3));
        p.lifetime_kb = static_cast<int>(st.integer(4));
        p.ipcomp = st.boolean(5);
        p.created_by = st.text(6);
        p.text = st.text(7);
        QVPN_ASSIGN(Stmt tf, db.prepare("SELECT protocol, encryption, authentication FROM "
                                        "data_transform WHERE policy_id = ?1 ORDER BY seq"));
        tf.bind(1, id);
        for (;;) {
            QVPN_ASSIGN(bool r, tf.step());
            if (!r) {
                break;
            }
            p.transforms.push_back({enum_or(tf.text(0), Protocol::Esp),
                                    enum_or(tf.text(1), Encr::None),
                                    enum_or(tf.text(2), DataAuth::None)});
        }
        return p;
    }

    Result<DynamicGroup> group_by_id(int64_t id) {
        QVPN_ASSIGN(Stmt st, db.prepare(
            "SELECT g.name, g.role, g.initiator, d.name, g.policy_filter, g.journaling, "
            "       g.populate_from_packet, g.l2tp, g.local_nat_pool, g.remote_nat_pool, "
            "       g.from_wizard, g.text, "
            "       (SELECT count(*) FROM dyn_group o WHERE o.seq < g.seq) + 1 "
            "FROM dyn_group g JOIN data_policy d ON d.id = g.data_policy_id WHERE g.id = ?1"));
        st.bind(1, id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return fail("QVP0003", "policy database", "group row vanished");
        }
        DynamicGroup g;
        g.name = st.text(0);
        g.role = enum_or(st.text(1), SystemRole::Gw2Gw);
        g.initiator = enum_or(st.text(2), Initiator::Both);
        g.data_policy = st.text(3);
        g.policy_filter = enum_or(st.text(4), PolicyFilter::Generate);
        g.journaling = enum_or(st.text(5), Journaling::None);
        g.populate_from_packet = st.boolean(6);
        g.l2tp = st.boolean(7);
        g.local_nat_pool = st.text(8);
        g.remote_nat_pool = st.text(9);
        g.from_wizard = st.boolean(10);
        g.text = st.text(11);
        g.position = static_cast<int>(st.integer(12));
        QVPN_ASSIGN(Stmt kp, db.prepare(
            "SELECT k.name, k.remote_type, k.remote_value FROM group_key_policy gk "
            "JOIN key_policy k ON k.id = gk.key_policy_id WHERE gk.group_id = ?1 ORDER BY gk.seq"));
        kp.bind(1, id);
        for (;;) {
            QVPN_ASSIGN(bool r, kp.step());
            if (!r) {
                break;
            }
            g.key_policies.push_back(kp.text(0));
            g.remote_key_servers.push_back(read_id(kp, 1));
        }
        QVPN_ASSIGN(Stmt ln, db.prepare("SELECT line FROM group_line WHERE group_id = ?1 "
                                        "ORDER BY seq"));
        ln.bind(1, id);
        for (;;) {
            QVPN_ASSIGN(bool r, ln.step());
            if (!r) {
                break;
            }
            g.lines.push_back(ln.text(0));
        }
        return g;
    }

    static constexpr std::string_view kConnColumns =
        "c.name, g.name, c.local_id_type, c.local_id_value, c.remote_id_type, "
        "c.remote_id_value, c.local_ep_type, c.local_ep_address, c.local_ep_extra, "
        "c.remote_ep_type, c.remote_ep_address, c.remote_ep_extra, c.local_port, "
        "c.remote_port, c.protocol, c.on_demand, c.autostart, c.ike_version, c.esn, c.tfc, "
        "c.from_wizard, c.text";

    static DynamicConnection read_connection(const Stmt& st) {
        DynamicConnection c;
        c.name = st.text(0);
        c.group = st.text(1);
        c.local_id = read_id(st, 2);
        c.remote_id = read_id(st, 4);
        c.local = read_ep(st, 6);
        c.remote = read_ep(st, 9);
        c.local_port = static_cast<int>(st.integer(12));
        c.remote_port = static_cast<int>(st.integer(13));
        c.protocol = static_cast<int>(st.integer(14));
        c.on_demand = st.boolean(15);
        c.autostart = st.boolean(16);
        c.ike_version = static_cast<int>(st.integer(17));
        c.esn = st.boolean(18);
        c.tfc = st.boolean(19);
        c.from_wizard = st.boolean(20);
        c.text = st.text(21);
        return c;
    }

    Result<std::vector<DynamicConnection>> connections_where(std::string_view where,
                                                             std::string_view arg) {
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT " + std::string(kConnColumns) +
                                        " FROM dyn_connection c JOIN dyn_group g "
                                        "ON g.id = c.group_id " + std::string(where) +
                                        " ORDER BY c.name COLLATE NOCASE"));
        if (!arg.empty()) {
            st.bind(1, arg);
        }
        std::vector<DynamicConnection> out;
        for (;;) {
            QVPN_ASSIGN(bool row, st.step());
            if (!row) {
                return out;
            }
            out.push_back(read_connection(st));
        }
    }

    static constexpr std::string_view kManualColumns =
        "id, name, role, mode, protocol, local_address, remote_address, local_ep_type, "
        "local_ep_address, local_ep_extra, remote_ep_type, remote_ep_address, remote_ep_extra, "
        "local_port, remote_port, ip_protocol, encryption, authentication, ah_authentication, "
        "esp_spi_in, esp_spi_out, ah_spi_in, ah_spi_out, keys IS NOT NULL, policy_filter, "
        "journaling, autostart, text";

    Result<ManualConnection> read_manual(const Stmt& st) {
        ManualConnection c;
        int64_t id = st.integer(0);
        c.name = st.text(1);
        c.role = enum_or(st.text(2), SystemRole::Host2Host);
        c.mode = enum_or(st.text(3), Mode::Transport);
        c.protocol = enum_or(st.text(4), Protocol::Esp);
        c.local_address = st.text(5);
        c.remote_address = st.text(6);
        c.local = read_ep(st, 7);
        c.remote = read_ep(st, 10);
        c.local_port = static_cast<int>(st.integer(13));
        c.remote_port = static_cast<int>(st.integer(14));
        c.ip_protocol = static_cast<int>(st.integer(15));
        c.encryption = enum_or(st.text(16), Encr::None);
        c.authentication = enum_or(st.text(17), DataAuth::None);
        c.ah_authentication = enum_or(st.text(18), DataAuth::None);
        c.esp.spi_in = static_cast<uint32_t>(st.integer(19));
        c.esp.spi_out = static_cast<uint32_t>(st.integer(20));
        c.ah.spi_in = static_cast<uint32_t>(st.integer(21));
        c.ah.spi_out = static_cast<uint32_t>(st.integer(22));
        c.has_keys = st.boolean(23);
        c.policy_filter = enum_or(st.text(24), PolicyFilter::Generate);
        c.journaling = enum_or(st.text(25), Journaling::None);
        c.autostart = st.boolean(26);
        c.text = st.text(27);
        QVPN_ASSIGN(Stmt ln, db.prepare("SELECT line FROM manual_line WHERE conn_id = ?1 ORDER BY seq"));
        ln.bind(1, id);
        for (;;) {
            QVPN_ASSIGN(bool r, ln.step());
            if (!r) {
                break;
            }
            c.lines.push_back(ln.text(0));
        }
        return c;
    }

    // --- group order ---
    Result<std::vector<int64_t>> group_ids_in_order() {
        return ids("SELECT id FROM dyn_group ORDER BY seq, id");
    }

    Status renumber_groups(const std::vector<int64_t>& ids) {
        QVPN_ASSIGN(Stmt st, db.prepare("UPDATE dyn_group SET seq = ?1 WHERE id = ?2"));
        for (size_t i = 0; i < ids.size(); ++i) {
            st.reset();
            st.bind(1, static_cast<int64_t>(i + 1)).bind(2, ids[i]);
            QVPN_TRY(st.run());
        }
        return {};
    }

    // Insert `id` at position (1-based; 0 or past the end: last).
    Status place_group(int64_t id, int position) {
        QVPN_ASSIGN(std::vector<int64_t> ids, group_ids_in_order());
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        size_t at = position <= 0 || static_cast<size_t>(position) > ids.size()
                        ? ids.size()
                        : static_cast<size_t>(position - 1);
        ids.insert(ids.begin() + static_cast<long>(at), id);
        return renumber_groups(ids);
    }

    // --- writers ---
    Status write_key_transforms(int64_t id, const std::vector<KeyTransform>& tfs) {
        QVPN_ASSIGN(Stmt del, db.prepare("DELETE FROM key_transform WHERE policy_id = ?1"));
        del.bind(1, id);
        QVPN_TRY(del.run());
        QVPN_ASSIGN(Stmt st, db.prepare("INSERT INTO key_transform(policy_id, seq, encryption, "
                                        "hash, dh_group) VALUES(?1, ?2, ?3, ?4, ?5)"));
        for (size_t i = 0; i < tfs.size(); ++i) {
            st.reset();
            st.bind(1, id).bind(2, static_cast<int64_t>(i + 1)).bind(3, to_cl(tfs[i].encryption))
                .bind(4, to_cl(tfs[i].hash)).bind(5, to_cl(tfs[i].dh_group));
            QVPN_TRY(st.run());
        }
        return {};
    }

    Status write_data_transforms(int64_t id, const std::vector<DataTransform>& tfs) {
        QVPN_ASSIGN(Stmt del, db.prepare("DELETE FROM data_transform WHERE policy_id = ?1"));
        del.bind(1, id);
        QVPN_TRY(del.run());
        QVPN_ASSIGN(Stmt st, db.prepare("INSERT INTO data_transform(policy_id, seq, protocol, "
                                        "encryption, authentication) VALUES(?1, ?2, ?3, ?4, ?5)"));
        for (size_t i = 0; i < tfs.size(); ++i) {
            st.reset();
            st.bind(1, id).bind(2, static_cast<int64_t>(i + 1)).bind(3, to_cl(tfs[i].protocol))
                .bind(4, to_cl(tfs[i].encryption)).bind(5, to_cl(tfs[i].authentication));
            QVPN_TRY(st.run());
        }
        return {};
    }

    Status write_lines(std::string_view table, std::string_view id_col, int64_t id,
                       const std::vector<std::string>& lines) {
        QVPN_ASSIGN(Stmt del, db.prepare("DELETE FROM " + std::string(table) + " WHERE " +
                                         std::string(id_col) + " = ?1"));
        del.bind(1, id);
        QVPN_TRY(del.run());
        QVPN_ASSIGN(Stmt st, db.prepare("INSERT INTO " + std::string(table) + "(" +
                                        std::string(id_col) + ", seq, line) VALUES(?1, ?2, ?3)"));
        for (size_t i = 0; i < lines.size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
                if (iequals(lines[i], lines[j])) {
                    return fail("PDB0135", lines[i]);
                }
            }
            st.reset();
            st.bind(1, id).bind(2, static_cast<int64_t>(i + 1)).bind(3, lines[i]);
            QVPN_TRY(st.run());
        }
        return {};
    }

    // The certificate row a key policy refers to, checked for its use.
    Result<std::optional<int64_t>> cert_for(const KeyPolicy& p) {
        if (p.auth == AuthMethod::Psk) {
            return std::optional<int64_t>();
        }
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT id, kind, key_type FROM certificate WHERE label = ?1"));
        st.bind(1, p.cert_label);
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return fail("DCM0001", p.cert_label);
        }
        if (st.text(1) != "*SYSTEM") {
            return fail("DCM0005", p.cert_label);
        }
        KeyType want = p.auth == AuthMethod::Rsa ? KeyType::Rsa : KeyType::Ecdsa;
        if (st.text(2) != to_cl(want)) {
            return fail("PDB0141", p.cert_label, st.text(2), to_cl(p.auth), to_cl(want));
        }
        return std::optional<int64_t>(st.integer(0));
    }

    Status write_key_policy(const KeyPolicy& in, bool create) {
        KeyPolicy p = in;
        p.remote = normalize(p.remote);
        QVPN_TRY(check_key_policy(p));
        QVPN_ASSIGN(int64_t id, id_of("key_policy", "name", p.name));
        if (create && id != 0) {
            return fail("PDB0102", p.name);
        }
        if (!create && id == 0) {
            return fail("PDB0101", p.name);
        }
        if (!create) {
            QVPN_TRY(refuse_if_groups_active(
                "SELECT group_id FROM group_key_policy WHERE key_policy_id = ?1", id,
                "*KEYPCY", p.name));
        }
        QVPN_ASSIGN(std::optional<int64_t> cert, cert_for(p));

        // Key: replace, keep or erase (see the header).
        std::optional<Bytes> sealed;
        bool keep = false;
        if (!p.psk.empty()) {
            QVPN_ASSIGN(Bytes s, seal(p.psk.view(), kPskContext, true));
            sealed = std::move(s);
        } else if (p.has_psk && !create && p.auth == AuthMethod::Psk) {
            keep = true;
        }

        std::string sql = create
            ? "INSERT INTO key_policy(remote_type, remote_value, auth, cert_id, initiator_mode, "
              "lifetime_minutes, lifetime_kb, created_by, text, psk, name) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            : std::string("UPDATE key_policy SET remote_type = ?1, remote_value = ?2, auth = ?3, "
                          "cert_id = ?4, initiator_mode = ?5, lifetime_minutes = ?6, "
                          "lifetime_kb = ?7, created_by = ?8, text = ?9") +
                  (keep ? "" : ", psk = ?10") + " WHERE id = ?12";
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, to_cl(p.remote.type)).bind(2, p.remote.value).bind(3, to_cl(p.auth));
        if (cert) {
            st.bind(4, *cert);
        } else {
            st.bind_null(4);
        }
        st.bind(5, to_cl(p.initiator_mode)).bind(6, p.lifetime_minutes).bind(7, p.lifetime_kb)
            .bind(8, p.created_by).bind(9, p.text);
        if (!keep) {
            if (sealed) {
                st.bind_blob(10, *sealed);
            } else {
                st.bind_null(10);
            }
        }
        if (create) {
            st.bind(11, p.name);
        } else {
            st.bind(12, id);
        }
        QVPN_TRY(st.run());
        if (create) {
            id = db.last_insert_id();
        }
        return write_key_transforms(id, p.transforms);
    }

    Status write_data_policy(const DataPolicy& p, bool create) {
        QVPN_TRY(check_data_policy(p));
        QVPN_ASSIGN(int64_t id, id_of("data_policy", "name", p.name));
        if (create && id != 0) {
            return fail("PDB0104", p.name);
        }
        if (!create && id == 0) {
            return fail("PDB0103", p.name);
        }
        if (!create) {
            QVPN_TRY(refuse_if_groups_active("SELECT id FROM dyn_group WHERE data_policy_id = ?1",
                                             id, "*DTAPCY", p.name));
            // A policy now in transport mode must suit every group using it.
            QVPN_ASSIGN(Stmt g, db.prepare("SELECT name, role FROM dyn_group WHERE data_policy_id = ?1"));
            g.bind(1, id);
            for (;;) {
                QVPN_ASSIGN(bool row, g.step());
                if (!row) {
                    break;
                }
                QVPN_TRY(check_mode_role(p.mode, enum_or(g.text(1), SystemRole::Gw2Gw), g.text(0)));
            }
        }
        std::string sql = create
            ? "INSERT INTO data_policy(pfs, mode, lifetime_minutes, lifetime_kb, ipcomp, "
              "created_by, text, name) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            : "UPDATE data_policy SET pfs = ?1, mode = ?2, lifetime_minutes = ?3, "
              "lifetime_kb = ?4, ipcomp = ?5, created_by = ?6, text = ?7 WHERE id = ?9";
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, to_cl(p.pfs)).bind(2, to_cl(p.mode)).bind(3, p.lifetime_minutes)
            .bind(4, p.lifetime_kb).bind(5, p.ipcomp).bind(6, p.created_by).bind(7, p.text);
        if (create) {
            st.bind(8, p.name);
        } else {
            st.bind(9, id);
        }
        QVPN_TRY(st.run());
        if (create) {
            id = db.last_insert_id();
        }
        return write_data_transforms(id, p.transforms);
    }

    // The key policy ids of a group's list, each checked to exist.
    Result<std::vector<int64_t>> key_policy_ids(const DynamicGroup& g) {
        std::vector<int64_t> ids;
        for (const auto& k : g.key_policies) {
            QVPN_ASSIGN(int64_t kid, id_of("key_policy", "name", k));
            if (kid == 0) {
                return fail("PDB0101", k);
            }
            ids.push_back(kid);
        }
        return ids;
    }

    // Every connection of the group must still have its remote key server
    // in the group, and suit the group's role.
    Status check_group_connections(int64_t gid, const DynamicGroup& g) {
        QVPN_ASSIGN(auto conns, connections_where("WHERE c.group_id = ?1", std::to_string(gid)));
        for (const auto& c : conns) {
            QVPN_TRY(check_served(c, g));
            QVPN_TRY(check_connection_role(c, g.role));
        }
        return {};
    }

    // A connection's remote key server must be one its group serves.
    Status check_served(const DynamicConnection& c, const DynamicGroup& g) {
        for (const auto& k : g.key_policies) {
            QVPN_ASSIGN(int64_t kid, id_of("key_policy", "name", k));
            QVPN_ASSIGN(Stmt st, db.prepare("SELECT remote_type, remote_value FROM key_policy "
                                            "WHERE id = ?1"));
            st.bind(1, kid);
            QVPN_ASSIGN(bool row, st.step());
            if (row && same_identity(read_id(st, 0), c.remote_id)) {
                return {};
            }
        }
        std::string id = std::string(to_cl(c.remote_id.type)) +
                         (c.remote_id.value.empty() ? "" : " " + c.remote_id.value);
        return fail("PDB0140", id, g.name, c.name);
    }

    Status write_group(const DynamicGroup& g, bool create, int position) {
        QVPN_TRY(check_group(g));
        QVPN_ASSIGN(int64_t id, id_of("dyn_group", "name", g.name));
        if (create && id != 0) {
            return fail("PDB0106", g.name);
        }
        if (!create && id == 0) {
            return fail("PDB0105", g.name);
        }
        if (!create) {
            QVPN_TRY(refuse_if_group_active(id, "*DKG", g.name));
        }
        QVPN_ASSIGN(int64_t dp, id_of("data_policy", "name", g.data_policy));
        if (dp == 0) {
            return fail("PDB0103", g.data_policy);
        }
        QVPN_ASSIGN(DataPolicy data, data_policy_by_id(dp));
        QVPN_TRY(check_mode_role(data.mode, g.role, g.name));
        QVPN_ASSIGN(std::vector<int64_t> kids, key_policy_ids(g));

        std::string sql = create
            ? "INSERT INTO dyn_group(role, initiator, data_policy_id, policy_filter, journaling, "
              "populate_from_packet, l2tp, local_nat_pool, remote_nat_pool, from_wizard, text, "
              "name, seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0)"
            : "UPDATE dyn_group SET role = ?1, initiator = ?2, data_policy_id = ?3, "
              "policy_filter = ?4, journaling = ?5, populate_from_packet = ?6, l2tp = ?7, "
              "local_nat_pool = ?8, remote_nat_pool = ?9, from_wizard = ?10, text = ?11 "
              "WHERE id = ?13";
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, to_cl(g.role)).bind(2, to_cl(g.initiator)).bind(3, dp)
            .bind(4, to_cl(g.policy_filter)).bind(5, to_cl(g.journaling))
            .bind(6, g.populate_from_packet).bind(7, g.l2tp).bind(8, g.local_nat_pool)
            .bind(9, g.remote_nat_pool).bind(10, g.from_wizard).bind(11, g.text);
        if (create) {
            st.bind(12, g.name);
        } else {
            st.bind(13, id);
        }
        QVPN_TRY(st.run());
        if (create) {
            id = db.last_insert_id();
            QVPN_TRY(place_group(id, position));
        }
        QVPN_ASSIGN(Stmt del, db.prepare("DELETE FROM group_key_policy WHERE group_id = ?1"));
        del.bind(1, id);
        QVPN_TRY(del.run());
        QVPN_ASSIGN(Stmt ins, db.prepare("INSERT INTO group_key_policy(group_id, seq, "
                                         "key_policy_id) VALUES(?1, ?2, ?3)"));
        for (size_t i = 0; i < kids.size(); ++i) {
            ins.reset();
            ins.bind(1, id).bind(2, static_cast<int64_t>(i + 1)).bind(3, kids[i]);
            QVPN_TRY(ins.run());
        }
        QVPN_TRY(write_lines("group_line", "group_id", id, g.lines));
        if (!create) {
            QVPN_TRY(check_group_connections(id, g));
        }
        return {};
    }

    Status refuse_name_taken_by_other(std::string_view table, std::string_view name) {
        QVPN_ASSIGN(int64_t other, id_of(table, "name", name));
        if (other != 0) {
            return fail("PDB0108", std::string(name));
        }
        return {};
    }

    Status write_connection(const DynamicConnection& in, bool create) {
        DynamicConnection c = in;
        c.local_id = normalize(c.local_id);
        c.remote_id = normalize(c.remote_id);
        c.local = normalize(c.local);
        c.remote = normalize(c.remote);
        QVPN_TRY(check_connection(c));
        QVPN_ASSIGN(int64_t id, id_of("dyn_connection", "name", c.name));
        if (create && id != 0) {
            return fail("PDB0108", c.name);
        }
        if (!create && id == 0) {
            return fail("PDB0107", c.name);
        }
        if (create) {
            QVPN_TRY(refuse_name_taken_by_other("manual_connection", c.name));
        } else {
            QVPN_TRY(refuse_if_conn_active(c.name, "*DKC"));
        }
        QVPN_ASSIGN(int64_t gid, id_of("dyn_group", "name", c.group));
        if (gid == 0) {
            return fail("PDB0105", c.group);
        }
        QVPN_ASSIGN(DynamicGroup g, group_by_id(gid));
        QVPN_TRY(check_served(c, g));
        QVPN_TRY(check_connection_role(c, g.role));

        std::string sql = create
            ? "INSERT INTO dyn_connection(group_id, local_id_type, local_id_value, "
              "remote_id_type, remote_id_value, local_ep_type, local_ep_address, local_ep_extra, "
              "remote_ep_type, remote_ep_address, remote_ep_extra, local_port, remote_port, "
              "protocol, on_demand, autostart, ike_version, esn, tfc, from_wizard, text, name) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
              "?17, ?18, ?19, ?20, ?21, ?22)"
            : "UPDATE dyn_connection SET group_id = ?1, local_id_type = ?2, local_id_value = ?3, "
              "remote_id_type = ?4, remote_id_value = ?5, local_ep_type = ?6, "
              "local_ep_address = ?7, local_ep_extra = ?8, remote_ep_type = ?9, "
              "remote_ep_address = ?10, remote_ep_extra = ?11, local_port = ?12, "
              "remote_port = ?13, protocol = ?14, on_demand = ?15, autostart = ?16, "
              "ike_version = ?17, esn = ?18, tfc = ?19, from_wizard = ?20, text = ?21 "
              "WHERE id = ?23";
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, gid).bind(2, to_cl(c.local_id.type)).bind(3, c.local_id.value)
            .bind(4, to_cl(c.remote_id.type)).bind(5, c.remote_id.value)
            .bind(6, ep_type(c.local)).bind(7, c.local.address).bind(8, c.local.extra)
            .bind(9, ep_type(c.remote)).bind(10, c.remote.address).bind(11, c.remote.extra)
            .bind(12, c.local_port).bind(13, c.remote_port).bind(14, c.protocol)
            .bind(15, c.on_demand).bind(16, c.autostart).bind(17, c.ike_version)
            .bind(18, c.esn).bind(19, c.tfc).bind(20, c.from_wizard).bind(21, c.text);
        if (create) {
            st.bind(22, c.name);
        } else {
            st.bind(23, id);
        }
        return st.run();
    }

    Status write_manual(const ManualConnection& in, bool create) {
        ManualConnection c = in;
        c.local = normalize(c.local);
        c.remote = normalize(c.remote);
        if (auto a = IpAddress::parse(c.local_address)) {
            c.local_address = a->to_string();
        }
        if (auto a = IpAddress::parse(c.remote_address)) {
            c.remote_address = a->to_string();
        }
        QVPN_TRY(check_manual_connection(c));
        QVPN_ASSIGN(int64_t id, id_of("manual_connection", "name", c.name));
        if (create && id != 0) {
            return fail("PDB0108", c.name);
        }
        if (!create && id == 0) {
            return fail("PDB0109", c.name);
        }
        if (create) {
            QVPN_TRY(refuse_name_taken_by_other("dyn_connection", c.name));
        } else {
            QVPN_TRY(refuse_if_conn_active(c.name, "*MNC"));
        }

        std::optional<Bytes> sealed;
        bool keep = false;
        if (manual_keys_given(c)) {
            Bytes packed = pack_manual_keys(c);
            auto s = seal(packed, kManualContext, true);
            std::fill(packed.begin(), packed.end(), 0);
            if (!s.ok()) {
                return s.failure();
            }
            sealed = std::move(*s);
        } else if (c.has_keys && !create) {
            // Kept keys must still fit: changing an algorithm or the
            // protocol needs the keys again.
            QVPN_ASSIGN(Stmt old, db.prepare("SELECT protocol, encryption, authentication, "
                                             "ah_authentication FROM manual_connection WHERE id = ?1"));
            old.bind(1, id);
            QVPN_ASSIGN(bool row, old.step());
            if (row && (old.text(0) != to_cl(c.protocol) || old.text(1) != to_cl(c.encryption) ||
                        old.text(2) != to_cl(c.authentication) ||
                        old.text(3) != to_cl(c.ah_authentication))) {
                return fail("PDB0142", c.name);
            }
            keep = true;
        }

        std::string cols =
            "role, mode, protocol, local_address, remote_address, local_ep_type, "
            "local_ep_address, local_ep_extra, remote_ep_type, remote_ep_address, "
            "remote_ep_extra, local_port, remote_port, ip_protocol, encryption, authentication, "
            "ah_authentication, esp_spi_in, esp_spi_out, ah_spi_in, ah_spi_out, policy_filter, "
            "journaling, autostart, text";
        std::string sql;
        if (create) {
            sql = "INSERT INTO manual_connection(" + cols + ", keys, name) VALUES(?1, ?2, ?3, "
                  "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                  "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";
        } else {
            sql = "UPDATE manual_connection SET role = ?1, mode = ?2, protocol = ?3, "
                  "local_address = ?4, remote_address = ?5, local_ep_type = ?6, "
                  "local_ep_address = ?7, local_ep_extra = ?8, remote_ep_type = ?9, "
                  "remote_ep_address = ?10, remote_ep_extra = ?11, local_port = ?12, "
                  "remote_port = ?13, ip_protocol = ?14, encryption = ?15, "
                  "authentication = ?16, ah_authentication = ?17, esp_spi_in = ?18, "
                  "esp_spi_out = ?19, ah_spi_in = ?20, ah_spi_out = ?21, policy_filter = ?22, "
                  "journaling = ?23, autostart = ?24, text = ?25" +
                  std::string(keep ? "" : ", keys = ?26") + " WHERE id = ?28";
        }
        QVPN_ASSIGN(Stmt st, db.prepare(sql));
        st.bind(1, to_cl(c.role)).bind(2, to_cl(c.mode)).bind(3, to_cl(c.protocol))
            .bind(4, c.local_address).bind(5, c.remote_address).bind(6, ep_type(c.local))
            .bind(7, c.local.address).bind(8, c.local.extra).bind(9, ep_type(c.remote))
            .bind(10, c.remote.address).bind(11, c.remote.extra).bind(12, c.local_port)
            .bind(13, c.remote_port).bind(14, c.ip_protocol).bind(15, to_cl(c.encryption))
            .bind(16, to_cl(c.authentication)).bind(17, to_cl(c.ah_authentication))
            .bind(18, static_cast<int64_t>(c.esp.spi_in))
            .bind(19, static_cast<int64_t>(c.esp.spi_out))
            .bind(20, static_cast<int64_t>(c.ah.spi_in))
            .bind(21, static_cast<int64_t>(c.ah.spi_out)).bind(22, to_cl(c.policy_filter))
            .bind(23, to_cl(c.journaling)).bind(24, c.autostart).bind(25, c.text);
        if (!keep) {
            if (sealed) {
                st.bind_blob(26, *sealed);
            } else {
                st.bind_null(26);
            }
        }
        if (create) {
            st.bind(27, c.name);
        } else {
            st.bind(28, id);
        }
        QVPN_TRY(st.run());
        if (create) {
            id = db.last_insert_id();
        }
        return write_lines("manual_line", "conn_id", id, c.lines);
    }

    // --- lookups for the daemons ---
    // The first key policy (groups in order, then each group's list) whose
    // remote identifier matches; failing that the first *ANYIP policy, for
    // IP identifiers only or for any peer.
    struct KeyMatch {
        int64_t key_id = 0;
        int64_t group_id = 0;
    };

    enum class AnyIp { IpIdentities, AnyPeer };

    Result<std::optional<KeyMatch>> match_key_policy(const Identity& id, AnyIp rule) {
        QVPN_ASSIGN(Stmt st, db.prepare(
            "SELECT gk.key_policy_id, g.id, k.remote_type, k.remote_value "
            "FROM dyn_group g JOIN group_key_policy gk ON gk.group_id = g.id "
            "JOIN key_policy k ON k.id = gk.key_policy_id ORDER BY g.seq, g.id, gk.seq"));
        std::optional<KeyMatch> any;
        bool ip = id.type == IdType::IPv4 || id.type == IdType::IPv6;
        bool any_ok = rule == AnyIp::AnyPeer || ip;
        for (;;) {
            QVPN_ASSIGN(bool row, st.step());
            if (!row) {
                break;
            }
            Identity kid = read_id(st, 2);
            if (same_identity(kid, id)) {
                return std::optional<KeyMatch>(KeyMatch{st.integer(0), st.integer(1)});
            }
            if (!any && any_ok && kid.type == IdType::AnyIp) {
                any = KeyMatch{st.integer(0), st.integer(1)};
            }
        }
        return any;
    }

    Status decrypt_psk(int64_t key_id, KeyPolicy& key) {
        if (key.auth != AuthMethod::Psk) {
            return {};
        }
        QVPN_ASSIGN(Stmt st, db.prepare("SELECT psk FROM key_policy WHERE id = ?1"));
        st.bind(1, key_id);
        QVPN_ASSIGN(bool row, st.step());
        if (!row || st.is_null(0)) {
            return fail("PDB0017", key.name);
        }
        Bytes sealed = st.blob(0);
        if (auto it = psk_clear.find(sealed); it != psk_clear.end()) {
            key.psk = it->second;
            key.has_psk = true;
            return {};
        }
        QVPN_ASSIGN(SecretBytes psk, unseal(sealed, kPskContext));
        if (psk_clear.size() >= kPskClearMax) {
            psk_clear.clear();
        }
        psk_clear.emplace(std::move(sealed), psk);
        key.psk = std::move(psk);
        key.has_psk = true;
        return {};
    }

    Result<VpnAttributes> read_attributes();
};

// ---------------------------------------------------------------------------

PolicyDb::PolicyDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicyDb::PolicyDb(PolicyDb&&) noexcept = default;
PolicyDb& PolicyDb::operator=(PolicyDb&&) noexcept = default;
PolicyDb::~PolicyDb() = default;

const std::string& PolicyDb::path() const { return impl_->path; }
const std::string& PolicyDb::secret_dir() const { return impl_->secret_dir; }
Access PolicyDb::access() const { return impl_->access; }
sql::Database& PolicyDb::database() { return impl_->db; }

namespace {

Result<int> read_version(sql::Database& db) {
    QVPN_ASSIGN(auto has, db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name = 'schema_version'"));
    if (!has || *has == 0) {
        return 0;
    }
    QVPN_ASSIGN(auto v, db.scalar("SELECT max(version) FROM schema_version"));
    return v ? static_cast<int>(*v) : 0;
}

Status migrate(sql::Database& db, const std::string& path) {
    QVPN_ASSIGN(int v, read_version(db));
    if (v > code_schema_version()) {
        return fail("PDB0002", path, v, code_schema_version());
    }
    if (v == code_schema_version()) {
        return {};
    }
    QVPN_ASSIGN(sql::Transaction txn, sql::Transaction::begin(db));
    // Another process may have migrated while we waited for the lock.
    QVPN_ASSIGN(v, read_version(db));
    if (v > code_schema_version()) {
        return fail("PDB0002", path, v, code_schema_version());
    }
    QVPN_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    for (const auto& m : migrations()) {
        if (m.version <= v) {
            continue;
        }
        QVPN_TRY(db.exec(m.sql));
        v = m.version;
    }
    QVPN_TRY(db.exec("DELETE FROM schema_version"));
    QVPN_ASSIGN(Stmt st, db.prepare("INSERT INTO schema_version(version) VALUES(?1)"));
    st.bind(1, v);
    QVPN_TRY(st.run());
    return txn.commit();
}

}  // namespace

Result<PolicyDb> PolicyDb::open(const std::string& path, Access access,
                                const std::string& secret_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    bool exists = fs::exists(path, ec);
    if (!exists && access == Access::ReadOnly) {
        return fail("PDB0001", path);
    }
    fs::path parent = fs::path(path).parent_path();
    if (!exists && !parent.empty()) {
        fs::create_directories(parent, ec);
    }
    QVPN_ASSIGN(sql::Database db, sql::Database::open(path, access == Access::ReadWrite));
    if (!exists) {
        share_with_admins(path, parent.string());
    }
    if (access == Access::ReadWrite) {
        QVPN_ASSIGN(Stmt wal, db.prepare("PRAGMA journal_mode = WAL"));
        QVPN_TRY(wal.run());
    }
    QVPN_TRY(migrate(db, path));
    if (access == Access::ReadOnly) {
        QVPN_TRY(db.exec("PRAGMA query_only = 1"));
    }
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(db);
    impl->path = path;
    impl->secret_dir = secret_dir.empty() ? (parent / "secret").string() : secret_dir;
    impl->access = access;
    // Root makes the system key pair early, so that members of qvpnadm (who
    // cannot create it) find system.pub when they store a key.
    if (access == Access::ReadWrite && ::geteuid() == 0 &&
        !crypto::system_key_exists(impl->secret_dir)) {
        QVPN_TRY(crypto::ensure_system_key(impl->secret_dir));
    }
    return PolicyDb(std::move(impl));
}

Result<int> PolicyDb::schema_version() { return read_version(impl_->db); }

Status PolicyDb::transaction(const std::function<Status()>& body) { return impl_->write(body); }

// --- key policies ---

Result<std::vector<KeyPolicy>> PolicyDb::list_key_policies() {
    QVPN_ASSIGN(std::vector<int64_t> ids,
                impl_->ids("SELECT id FROM key_policy ORDER BY name COLLATE NOCASE"));
    return impl_->each<KeyPolicy>(ids, [this](int64_t id) { return impl_->key_policy_by_id(id); });
}

Result<KeyPolicy> PolicyDb::load_key_policy(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->existing_id("key_policy", "name", name, "PDB0101"));
    return impl_->key_policy_by_id(id);
}

Result<bool> PolicyDb::key_policy_exists(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->id_of("key_policy", "name", name));
    return id != 0;
}

Status PolicyDb::create_key_policy(const KeyPolicy& p) {
    return impl_->write([&] { return impl_->write_key_policy(p, true); });
}

Status PolicyDb::update_key_policy(const KeyPolicy& p) {
    return impl_->write([&] { return impl_->write_key_policy(p, false); });
}

Status PolicyDb::delete_key_policy(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("key_policy", "name", name, "PDB0101"));
        QVPN_ASSIGN(std::optional<std::string> user,
                    impl_->first_user("SELECT g.name FROM group_key_policy gk JOIN dyn_group g "
                                      "ON g.id = gk.group_id WHERE gk.key_policy_id = ?1 "
                                      "ORDER BY g.seq LIMIT 1",
                                      id));
        if (user) {
            return fail("PDB0110", "*KEYPCY", std::string(name), "*DKG", *user);
        }
        return impl_->delete_id("key_policy", id);
    });
}

// --- data policies ---

Result<std::vector<DataPolicy>> PolicyDb::list_data_policies() {
    QVPN_ASSIGN(std::vector<int64_t> ids,
                impl_->ids("SELECT id FROM data_policy ORDER BY name COLLATE NOCASE"));
    return impl_->each<DataPolicy>(ids,
                                   [this](int64_t id) { return impl_->data_policy_by_id(id); });
}

Result<DataPolicy> PolicyDb::load_data_policy(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->existing_id("data_policy", "name", name, "PDB0103"));
    return impl_->data_policy_by_id(id);
}

Result<bool> PolicyDb::data_policy_exists(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->id_of("data_policy", "name", name));
    return id != 0;
}

Status PolicyDb::create_data_policy(const DataPolicy& p) {
    return impl_->write([&] { return impl_->write_data_policy(p, true); });
}

Status PolicyDb::update_data_policy(const DataPolicy& p) {
    return impl_->write([&] { return impl_->write_data_policy(p, false); });
}

Status PolicyDb::delete_data_policy(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("data_policy", "name", name, "PDB0103"));
        QVPN_ASSIGN(std::optional<std::string> user,
                    impl_->first_user("SELECT name FROM dyn_group WHERE data_policy_id = ?1 "
                                      "ORDER BY seq LIMIT 1",
                                      id));
        if (user) {
            return fail("PDB0110", "*DTAPCY", std::string(name), "*DKG", *user);
        }
        return impl_->delete_id("data_policy", id);
    });
}

// --- groups ---

Result<std::vector<DynamicGroup>> PolicyDb::list_groups() {
    QVPN_ASSIGN(std::vector<int64_t> ids, impl_->group_ids_in_order());
    return impl_->each<DynamicGroup>(ids, [this](int64_t id) { return impl_->group_by_id(id); });
}

Result<DynamicGroup> PolicyDb::load_group(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->existing_id("dyn_group", "name", name, "PDB0105"));
    return impl_->group_by_id(id);
}

Result<bool> PolicyDb::group_exists(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->id_of("dyn_group", "name", name));
    return id != 0;
}

Status PolicyDb::create_group(const DynamicGroup& g, int position) {
    return impl_->write([&] { return impl_->write_group(g, true, position); });
}

Status PolicyDb::update_group(const DynamicGroup& g) {
    return impl_->write([&] { return impl_->write_group(g, false, 0); });
}

Status PolicyDb::move_group(std::string_view name, int position) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("dyn_group", "name", name, "PDB0105"));
        return impl_->place_group(id, position);
    });
}

Status PolicyDb::delete_group(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("dyn_group", "name", name, "PDB0105"));
        QVPN_TRY(impl_->refuse_if_group_active(id, "*DKG", name));
        QVPN_ASSIGN(std::optional<std::string> user,
                    impl_->first_user("SELECT name FROM dyn_connection WHERE group_id = ?1 "
                                      "ORDER BY name LIMIT 1",
                                      id));
        if (user) {
            return fail("PDB0110", "*DKG", std::string(name), "*DKC", *user);
        }
        QVPN_TRY(impl_->delete_id("dyn_group", id));
        QVPN_ASSIGN(std::vector<int64_t> ids, impl_->group_ids_in_order());
        return impl_->renumber_groups(ids);
    });
}

// --- connections ---

Result<std::vector<DynamicConnection>> PolicyDb::list_connections() {
    return impl_->connections_where("", "");
}

Result<std::vector<DynamicConnection>> PolicyDb::list_connections(std::string_view group) {
    return impl_->connections_where("WHERE g.name = ?1", group);
}

Result<DynamicConnection> PolicyDb::load_connection(std::string_view name) {
    QVPN_ASSIGN(auto v, impl_->connections_where("WHERE c.name = ?1", name));
    if (v.empty()) {
        return fail("PDB0107", std::string(name));
    }
    return v.front();
}

Status PolicyDb::create_connection(const DynamicConnection& c) {
    return impl_->write([&] { return impl_->write_connection(c, true); });
}

Status PolicyDb::update_connection(const DynamicConnection& c) {
    return impl_->write([&] { return impl_->write_connection(c, false); });
}

Status PolicyDb::delete_connection(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("dyn_connection", "name", name, "PDB0107"));
        QVPN_TRY(impl_->refuse_if_conn_active(name, "*DKC"));
        QVPN_TRY(impl_->delete_id("dyn_connection", id));
        return clear_state(name);
    });
}

// --- manual connections ---

Result<std::vector<ManualConnection>> PolicyDb::list_manual_connections() {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(Impl::kManualColumns) +
                                           " FROM manual_connection ORDER BY name COLLATE NOCASE"));
    std::vector<ManualConnection> out;
    for (;;) {
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return out;
        }
        QVPN_ASSIGN(ManualConnection c, impl_->read_manual(st));
        out.push_back(std::move(c));
    }
}

Result<ManualConnection> PolicyDb::load_manual_connection(std::string_view name) {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(Impl::kManualColumns) +
                                           " FROM manual_connection WHERE name = ?1"));
    st.bind(1, name);
    QVPN_ASSIGN(bool row, st.step());
    if (!row) {
        return fail("PDB0109", std::string(name));
    }
    return impl_->read_manual(st);
}

Status PolicyDb::create_manual_connection(const ManualConnection& c) {
    return impl_->write([&] { return impl_->write_manual(c, true); });
}

Status PolicyDb::update_manual_connection(const ManualConnection& c) {
    return impl_->write([&] { return impl_->write_manual(c, false); });
}

Status PolicyDb::delete_manual_connection(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("manual_connection", "name", name, "PDB0109"));
        QVPN_TRY(impl_->refuse_if_conn_active(name, "*MNC"));
        QVPN_TRY(impl_->delete_id("manual_connection", id));
        return clear_state(name);
    });
}

// --- lines ---

Result<std::vector<Line>> PolicyDb::list_lines() {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT name, interface, text FROM line "
                                           "ORDER BY name COLLATE NOCASE"));
    std::vector<Line> out;
    for (;;) {
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back({st.text(0), st.text(1), st.text(2)});
    }
}

Result<Line> PolicyDb::load_line(std::string_view name) {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT name, interface, text FROM line WHERE name = ?1"));
    st.bind(1, name);
    QVPN_ASSIGN(bool row, st.step());
    if (!row) {
        return fail("CPF2601", std::string(name));
    }
    return Line{st.text(0), st.text(1), st.text(2)};
}

Status PolicyDb::create_line(const Line& l) {
    return impl_->write([&]() -> Status {
        QVPN_TRY(check_line(l));
        QVPN_ASSIGN(int64_t id, impl_->id_of("line", "name", l.name));
        if (id != 0) {
            return fail("PDB010A", l.name);
        }
        QVPN_ASSIGN(Stmt st, impl_->db.prepare("INSERT INTO line(name, interface, text) "
                                               "VALUES(?1, ?2, ?3)"));
        st.bind(1, l.name).bind(2, l.interface).bind(3, l.text);
        return st.run();
    });
}

Status PolicyDb::update_line(const Line& l) {
    return impl_->write([&]() -> Status {
        QVPN_TRY(check_line(l));
        QVPN_ASSIGN(int64_t id, impl_->id_of("line", "name", l.name));
        if (id == 0) {
            return fail("CPF2601", l.name);
        }
        QVPN_ASSIGN(Stmt st, impl_->db.prepare("UPDATE line SET interface = ?1, text = ?2 "
                                               "WHERE id = ?3"));
        st.bind(1, l.interface).bind(2, l.text).bind(3, id);
        return st.run();
    });
}

Status PolicyDb::delete_line(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("line", "name", name, "CPF2601"));
        QVPN_ASSIGN(Stmt g, impl_->db.prepare(
            "SELECT '*DKG', g.name FROM group_line l JOIN dyn_group g ON g.id = l.group_id "
            "WHERE l.line = ?1 UNION ALL "
            "SELECT '*MNC', m.name FROM manual_line l JOIN manual_connection m "
            "ON m.id = l.conn_id WHERE l.line = ?1 LIMIT 1"));
        g.bind(1, name);
        QVPN_ASSIGN(bool used, g.step());
        if (used) {
            return fail("PDB0110", "*LIND", std::string(name), g.text(0), g.text(1));
        }
        return impl_->delete_id("line", id);
    });
}

Result<std::string> PolicyDb::line_interface(std::string_view name) {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT interface FROM line WHERE name = ?1"));
    st.bind(1, name);
    QVPN_ASSIGN(bool row, st.step());
    return row ? st.text(0) : std::string(name);
}

// --- settings ---

namespace {

bool yes(const std::optional<std::string>& v, bool dft) {
    return v ? *v == "*YES" : dft;
}

int number(const std::optional<std::string>& v, int dft) {
    long long n = 0;
    return v && parse_int(*v, n) ? static_cast<int>(n) : dft;
}

std::string yn(bool b) { return b ? "*YES" : "*NO"; }

}  // namespace

Result<VpnAttributes> PolicyDb::Impl::read_attributes() {
    VpnAttributes a;
    QVPN_ASSIGN(auto rekey, setting("attr", "IKESAREKEY"));
    QVPN_ASSIGN(auto http, setting("attr", "HTTPCRTLKP"));
    QVPN_ASSIGN(auto esn, setting("attr", "ESN"));
    QVPN_ASSIGN(auto aggr, setting("attr", "RSPAGGR"));
    QVPN_ASSIGN(auto dpd, setting("attr", "DPDITV"));
    QVPN_ASSIGN(auto half, setting("attr", "HALFOPEN"));
    QVPN_ASSIGN(auto autostart, setting("attr", "AUTOSTART"));
    QVPN_ASSIGN(auto other, setting("attr", "OTHERTRAFFIC"));
    a.ikesa_rekey = yes(rekey, a.ikesa_rekey);
    a.http_cert_lookup = yes(http, a.http_cert_lookup);
    a.esn = yes(esn, a.esn);
    a.responder_aggressive = yes(aggr, a.responder_aggressive);
    a.dpd_seconds = number(dpd, a.dpd_seconds);
    a.half_open_limit = number(half, a.half_open_limit);
    a.autostart_server = yes(autostart, a.autostart_server);
    a.generated_permit_other = other ? *other == "*PERMIT" : a.generated_permit_other;
    return a;
}

Result<VpnAttributes> PolicyDb::attributes() { return impl_->read_attributes(); }

Status PolicyDb::set_attributes(const VpnAttributes& a) {
    return impl_->write([&]() -> Status {
        if (a.dpd_seconds < 0 || a.dpd_seconds > 3600) {
            return fail("PDB0131", "DPDITV", a.dpd_seconds, 0, 3600);
        }
        if (a.half_open_limit < 1 || a.half_open_limit > 100000) {
            return fail("PDB0131", "HALFOPEN", a.half_open_limit, 1, 100000);
        }
        QVPN_TRY(impl_->set_setting("attr", "IKESAREKEY", yn(a.ikesa_rekey)));
        QVPN_TRY(impl_->set_setting("attr", "HTTPCRTLKP", yn(a.http_cert_lookup)));
        QVPN_TRY(impl_->set_setting("attr", "ESN", yn(a.esn)));
        QVPN_TRY(impl_->set_setting("attr", "RSPAGGR", yn(a.responder_aggressive)));
        QVPN_TRY(impl_->set_setting("attr", "DPDITV", std::to_string(a.dpd_seconds)));
        QVPN_TRY(impl_->set_setting("attr", "HALFOPEN", std::to_string(a.half_open_limit)));
        QVPN_TRY(impl_->set_setting("attr", "AUTOSTART", yn(a.autostart_server)));
        return impl_->set_setting("attr", "OTHERTRAFFIC",
                                  a.generated_permit_other ? "*PERMIT" : "*DENY");
    });
}

Result<VpnDefaults> PolicyDb::defaults() {
    VpnDefaults d;
    QVPN_ASSIGN(auto kl, impl_->setting("dft", "KEYSECLVL"));
    QVPN_ASSIGN(auto dl, impl_->setting("dft", "DTASECLVL"));
    QVPN_ASSIGN(auto klm, impl_->setting("dft", "KEYLIFE"));
    QVPN_ASSIGN(auto klk, impl_->setting("dft", "KEYLIFEKB"));
    QVPN_ASSIGN(auto dlm, impl_->setting("dft", "DTALIFE"));
    QVPN_ASSIGN(auto dlk, impl_->setting("dft", "DTALIFEKB"));
    d.key_level = kl ? enum_or(*kl, d.key_level) : d.key_level;
    d.data_level = dl ? enum_or(*dl, d.data_level) : d.data_level;
    d.key_lifetime_minutes = number(klm, d.key_lifetime_minutes);
    d.key_lifetime_kb = number(klk, d.key_lifetime_kb);
    d.data_lifetime_minutes = number(dlm, d.data_lifetime_minutes);
    d.data_lifetime_kb = number(dlk, d.data_lifetime_kb);
    return d;
}

Status PolicyDb::set_defaults(const VpnDefaults& d) {
    return impl_->write([&]() -> Status {
        QVPN_TRY(check_range("KEYLIFE", d.key_lifetime_minutes, 1, 43200));
        QVPN_TRY(check_range("DTALIFE", d.data_lifetime_minutes, 1, 43200));
        QVPN_TRY(check_range("KEYLIFEKB", d.key_lifetime_kb, 0, 2147483647));
        QVPN_TRY(check_range("DTALIFEKB", d.data_lifetime_kb, 0, 2147483647));
        QVPN_TRY(impl_->set_setting("dft", "KEYSECLVL", to_cl(d.key_level)));
        QVPN_TRY(impl_->set_setting("dft", "DTASECLVL", to_cl(d.data_level)));
        QVPN_TRY(impl_->set_setting("dft", "KEYLIFE", std::to_string(d.key_lifetime_minutes)));
        QVPN_TRY(impl_->set_setting("dft", "KEYLIFEKB", std::to_string(d.key_lifetime_kb)));
        QVPN_TRY(impl_->set_setting("dft", "DTALIFE", std::to_string(d.data_lifetime_minutes)));
        return impl_->set_setting("dft", "DTALIFEKB", std::to_string(d.data_lifetime_kb));
    });
}

Result<std::string> PolicyDb::system_value(std::string_view name) { return impl_->sysval(name); }

Status PolicyDb::set_system_value(std::string_view name, std::string_view value,
                                  int* keys_erased) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(std::string old, impl_->sysval(name));
        QVPN_ASSIGN(std::string v, normalize_system_value(name, value));
        std::string canonical;
        for (const auto& d : system_value_defs()) {
            if (iequals(d.name, name)) {
                canonical = d.name;
            }
        }
        QVPN_TRY(impl_->set_setting("sysval", canonical, v));
        int erased = 0;
        if (canonical == kQRETSVRSEC && v == "0") {
            // Not keeping server security data means keeping no keys at all.
            QVPN_TRY(impl_->db.exec("UPDATE key_policy SET psk = NULL WHERE psk IS NOT NULL"));
            erased += impl_->db.changes();
            QVPN_TRY(impl_->db.exec("UPDATE manual_connection SET keys = NULL "
                                    "WHERE keys IS NOT NULL"));
            erased += impl_->db.changes();
        }
        if (keys_erased != nullptr) {
            *keys_erased = erased;
        }
        return {};
    });
}

Result<DataPath> PolicyDb::data_path() {
    QVPN_ASSIGN(std::string v, impl_->sysval(kQVPNDTAPTH));
    return enum_or(v, DataPath::Auto);
}

// --- states ---

namespace {

ConnectionStatus read_status(const Stmt& st) {
    ConnectionStatus s;
    s.name = st.text(0);
    s.type = enum_or(st.text(1), ConnectionType::Dynamic);
    s.state = enum_or(st.text(2), ConnectionState::Idle);
    s.group = st.text(3);
    s.error_msgid = st.text(4);
    s.error_values = split_values(st.text(5));
    s.error_time = st.integer(6);
    s.since = st.integer(7);
    return s;
}

constexpr std::string_view kStateColumns =
    "name, type, state, group_name, msgid, msg_values, error_time, since";

}  // namespace

Status PolicyDb::set_state(const ConnectionStatus& s) {
    return impl_->write([&]() -> Status {
        QVPN_TRY(check_name("*CNN", s.name));
        QVPN_ASSIGN(Stmt st, impl_->db.prepare(
            "INSERT INTO connection_state(name, type, state, group_name, msgid, msg_values, "
            "error_time, since) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
            "ON CONFLICT(name) DO UPDATE SET name = ?1, type = ?2, state = ?3, group_name = ?4, "
            "msgid = ?5, msg_values = ?6, error_time = ?7, since = ?8"));
        st.bind(1, s.name).bind(2, to_cl(s.type)).bind(3, to_cl(s.state)).bind(4, s.group)
            .bind(5, s.error_msgid).bind(6, join_values(s.error_values))
            .bind(7, s.error_time != 0 || s.error_msgid.empty() ? s.error_time : now_seconds())
            .bind(8, s.since != 0 ? s.since : now_seconds());
        return st.run();
    });
}

Result<std::optional<ConnectionStatus>> PolicyDb::get_state(std::string_view name) {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(kStateColumns) +
                                           " FROM connection_state WHERE name = ?1"));
    st.bind(1, name);
    QVPN_ASSIGN(bool row, st.step());
    if (!row) {
        return std::optional<ConnectionStatus>();
    }
    return std::optional<ConnectionStatus>(read_status(st));
}

Result<std::vector<ConnectionStatus>> PolicyDb::list_states() {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(kStateColumns) +
                                           " FROM connection_state ORDER BY name COLLATE NOCASE"));
    std::vector<ConnectionStatus> out;
    for (;;) {
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(read_status(st));
    }
}

Status PolicyDb::clear_state(std::string_view name) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(Stmt st, impl_->db.prepare("DELETE FROM connection_state WHERE name = ?1"));
        st.bind(1, name);
        return st.run();
    });
}

Status PolicyDb::reset_states() {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(Stmt st, impl_->db.prepare(
            "UPDATE connection_state SET state = '*IDLE', since = ?1 WHERE state <> '*IDLE'"));
        st.bind(1, now_seconds());
        return st.run();
    });
}

// --- daemons ---

Result<ConnectionPolicy> PolicyDb::resolve(std::string_view conn_or_group) {
    ConnectionPolicy cp;
    QVPN_ASSIGN(auto byname, impl_->connections_where("WHERE c.name = ?1", conn_or_group));
    if (byname.empty()) {
        QVPN_ASSIGN(auto ingroup, impl_->connections_where("WHERE g.name = ?1", conn_or_group));
        if (ingroup.size() == 1) {
            byname = std::move(ingroup);
        } else if (ingroup.size() > 1) {
            return fail("PDB0041", std::string(conn_or_group),
                        static_cast<long long>(ingroup.size()));
        } else {
            QVPN_ASSIGN(int64_t gid, impl_->id_of("dyn_group", "name", conn_or_group));
            if (gid != 0) {
                return fail("PDB0041", std::string(conn_or_group), 0);
            }
            QVPN_ASSIGN(int64_t mid, impl_->id_of("manual_connection", "name", conn_or_group));
            if (mid != 0) {
                return fail("PDB0043", std::string(conn_or_group));
            }
            return fail("PDB010D", std::string(conn_or_group));
        }
    }
    cp.connection = byname.front();
    QVPN_ASSIGN(cp.group, load_group(cp.connection.group));
    QVPN_ASSIGN(cp.data, load_data_policy(cp.group.data_policy));
    QVPN_ASSIGN(auto match,
                impl_->match_key_policy(cp.connection.remote_id, Impl::AnyIp::IpIdentities));
    if (!match) {
        return fail("PDB0040", cp.connection.remote_id.value.empty()
                                   ? std::string(to_cl(cp.connection.remote_id.type))
                                   : cp.connection.remote_id.value,
                    cp.connection.name);
    }
    QVPN_ASSIGN(cp.key, impl_->key_policy_by_id(match->key_id));
    QVPN_TRY(impl_->decrypt_psk(match->key_id, cp.key));
    QVPN_ASSIGN(cp.attributes, impl_->read_attributes());
    return cp;
}

Result<std::optional<ResponderMatch>> PolicyDb::find_responder(const Identity& peer_identity,
                                                               const IpAddress& peer_address) {
    QVPN_ASSIGN(auto match, impl_->match_key_policy(peer_identity, Impl::AnyIp::AnyPeer));
    if (!match) {
        return std::optional<ResponderMatch>();
    }
    ResponderMatch m;
    QVPN_ASSIGN(m.key, impl_->key_policy_by_id(match->key_id));
    QVPN_TRY(impl_->decrypt_psk(match->key_id, m.key));
    QVPN_ASSIGN(m.group, impl_->group_by_id(match->group_id));
    QVPN_ASSIGN(m.data, load_data_policy(m.group.data_policy));
    QVPN_ASSIGN(m.attributes, impl_->read_attributes());
    QVPN_ASSIGN(auto conns, list_connections(m.group.name));
    for (const auto& c : conns) {
        bool by_id = same_identity(c.remote_id, peer_identity);
        auto a = IpAddress::parse(c.remote_id.value);
        bool by_address = a && *a == peer_address;
        if (by_id || by_address) {
            m.connection = c;
            break;
        }
    }
    return std::optional<ResponderMatch>(std::move(m));
}

Result<std::optional<PolicyDb::KeyPolicyRef>> PolicyDb::key_policy_for(const Identity& remote_id) {
    QVPN_ASSIGN(auto match, impl_->match_key_policy(remote_id, Impl::AnyIp::IpIdentities));
    if (!match) {
        return std::optional<KeyPolicyRef>();
    }
    QVPN_ASSIGN(std::string key, impl_->name_of("key_policy", match->key_id));
    QVPN_ASSIGN(std::string group, impl_->name_of("dyn_group", match->group_id));
    return std::optional<KeyPolicyRef>(KeyPolicyRef{key, group});
}

Result<SecretBytes> PolicyDb::key_policy_psk(std::string_view name) {
    QVPN_ASSIGN(int64_t id, impl_->existing_id("key_policy", "name", name, "PDB0101"));
    QVPN_ASSIGN(KeyPolicy k, impl_->key_policy_by_id(id));
    QVPN_TRY(impl_->decrypt_psk(id, k));
    return std::move(k.psk);
}

Result<ManualPolicy> PolicyDb::resolve_manual(std::string_view name) {
    ManualPolicy mp;
    QVPN_ASSIGN(mp.connection, load_manual_connection(name));
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT keys FROM manual_connection WHERE name = ?1"));
    st.bind(1, name);
    QVPN_ASSIGN(bool row, st.step());
    if (!row || st.is_null(0)) {
        return fail("PDB0017", std::string(name));
    }
    QVPN_ASSIGN(SecretBytes packed, impl_->unseal(st.blob(0), kManualContext));
    if (!unpack_manual_keys(packed.view(), mp.connection)) {
        return fail("PDB0012");
    }
    QVPN_ASSIGN(mp.attributes, impl_->read_attributes());
    return mp;
}

// --- certificates ---

namespace {

constexpr std::string_view kCertColumns =
    "label, kind, der, private_key IS NOT NULL, subject, issuer, not_before, not_after, "
    "key_type, key_bits, curve, fingerprint, text";

CertificateInfo read_cert(const Stmt& st) {
    CertificateInfo c;
    c.label = st.text(0);
    c.kind = enum_or(st.text(1), CertKind::Ca);
    c.der = st.blob(2);
    c.has_private_key = st.boolean(3);
    c.subject = st.text(4);
    c.issuer = st.text(5);
    c.not_before = st.integer(6);
    c.not_after = st.integer(7);
    c.key_type = enum_or(st.text(8), KeyType::Rsa);
    c.key_bits = static_cast<int>(st.integer(9));
    c.curve = st.text(10);
    c.fingerprint = st.text(11);
    c.text = st.text(12);
    return c;
}

}  // namespace

Result<std::vector<CertificateInfo>> PolicyDb::list_certificates() {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(kCertColumns) +
                                           " FROM certificate ORDER BY label COLLATE NOCASE"));
    std::vector<CertificateInfo> out;
    for (;;) {
        QVPN_ASSIGN(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(read_cert(st));
    }
}

Result<CertificateInfo> PolicyDb::load_certificate(std::string_view label) {
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT " + std::string(kCertColumns) +
                                           " FROM certificate WHERE label = ?1"));
    st.bind(1, label);
    QVPN_ASSIGN(bool row, st.step());
    if (!row) {
        return fail("DCM0001", std::string(label));
    }
    return read_cert(st);
}

Status PolicyDb::add_certificate(const CertificateInfo& c, const SecretBytes& private_key_der) {
    return impl_->write([&]() -> Status {
        QVPN_TRY(check_name("*CERT", c.label));
        QVPN_ASSIGN(int64_t id, impl_->id_of("certificate", "label", c.label));
        if (id != 0) {
            return fail("DCM0002", c.label);
        }
        bool system = c.kind == CertKind::System;
        if (system == private_key_der.empty()) {
            return fail(system ? "DCM0003" : "DCM0006", c.label);
        }
        std::optional<Bytes> sealed;
        if (system) {
            // Certificate keys belong to the certificate store, which
            // QRETSVRSEC does not govern (see CHGSYSVAL).
            QVPN_ASSIGN(Bytes s, impl_->seal(private_key_der.view(), kCertKeyContext, false));
            sealed = std::move(s);
        }
        QVPN_ASSIGN(Stmt st, impl_->db.prepare(
            "INSERT INTO certificate(label, kind, der, private_key, subject, issuer, not_before, "
            "not_after, key_type, key_bits, curve, fingerprint, text) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
        st.bind(1, c.label).bind(2, to_cl(c.kind)).bind_blob(3, c.der);
        if (sealed) {
            st.bind_blob(4, *sealed);
        } else {
            st.bind_null(4);
        }
        st.bind(5, c.subject).bind(6, c.issuer).bind(7, c.not_before).bind(8, c.not_after)
            .bind(9, to_cl(c.key_type)).bind(10, c.key_bits).bind(11, c.curve)
            .bind(12, c.fingerprint).bind(13, c.text);
        return st.run();
    });
}

Status PolicyDb::remove_certificate(std::string_view label) {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(int64_t id, impl_->existing_id("certificate", "label", label, "DCM0001"));
        QVPN_ASSIGN(std::optional<std::string> user,
                    impl_->first_user("SELECT name FROM key_policy WHERE cert_id = ?1 "
                                      "ORDER BY name LIMIT 1",
                                      id));
        if (user) {
            return fail("PDB0110", "*CERT", std::string(label), "*KEYPCY", *user);
        }
        return impl_->delete_id("certificate", id);
    });
}

Result<CertificateKey> PolicyDb::certificate_key(std::string_view label) {
    CertificateKey ck;
    QVPN_ASSIGN(ck.info, load_certificate(label));
    QVPN_ASSIGN(Stmt st, impl_->db.prepare("SELECT private_key FROM certificate WHERE label = ?1"));
    st.bind(1, label);
    QVPN_ASSIGN(bool row, st.step());
    if (!row || st.is_null(0)) {
        return fail("DCM0005", std::string(label));
    }
    QVPN_ASSIGN(ck.private_key_der, impl_->unseal(st.blob(0), kCertKeyContext));
    return ck;
}

Result<std::vector<CertificateInfo>> PolicyDb::trusted_cas() {
    QVPN_ASSIGN(auto all, list_certificates());
    std::vector<CertificateInfo> out;
    for (auto& c : all) {
        if (c.kind == CertKind::Ca) {
            out.push_back(std::move(c));
        }
    }
    return out;
}

// --- whole configuration ---

Status PolicyDb::erase_configuration() {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(Stmt st, impl_->db.prepare(
            "SELECT name, state FROM connection_state WHERE state NOT IN ('*IDLE', '*ERROR') "
            "ORDER BY name LIMIT 1"));
        QVPN_ASSIGN(bool active, st.step());
        if (active) {
            return fail("PDB0111", "*CNN", st.text(0), st.text(0), st.text(1));
        }
        return impl_->db.exec(
            "DELETE FROM dyn_connection; DELETE FROM dyn_group; DELETE FROM key_policy; "
            "DELETE FROM data_policy; DELETE FROM manual_connection; DELETE FROM line; "
            "DELETE FROM setting WHERE scope IN ('attr', 'dft'); "
            "DELETE FROM connection_state;");
    });
}

Status PolicyDb::erase_certificates() {
    return impl_->write([&]() -> Status {
        QVPN_ASSIGN(auto used, impl_->db.scalar("SELECT count(*) FROM key_policy "
                                                "WHERE cert_id IS NOT NULL"));
        if (used && *used > 0) {
            return fail("PDB0110", "*CERT", "*ALL", "*KEYPCY", "*ALL");
        }
        return impl_->db.exec("DELETE FROM certificate");
    });
}

Result<Bytes> PolicyDb::seal_key(ByteView clear, std::string_view context) {
    return impl_->seal(clear, context, true);
}

Result<SecretBytes> PolicyDb::open_key(ByteView sealed, std::string_view context) {
    return impl_->unseal(sealed, context);
}

}  // namespace qvpn::policy
