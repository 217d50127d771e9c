#include "core/policy/schema.hpp"

namespace qvpn::policy {

namespace {

// Version 1: the object model of model.hpp, the certificate store, settings
// (VPN attributes, defaults, system values) and connection runtime states.
// Enumerations are stored in their CL spelling (*AESCBC128), the same text
// the commands and the XML file use.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE setting(
    scope TEXT NOT NULL,
    name  TEXT NOT NULL COLLATE NOCASE,
    value TEXT NOT NULL,
    PRIMARY KEY(scope, name));

CREATE TABLE certificate(
    id          INTEGER PRIMARY KEY,
    label       TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(label) BETWEEN 1 AND 40),
    kind        TEXT NOT NULL CHECK(kind IN ('*SYSTEM', '*CA')),
    der         BLOB NOT NULL,
    private_key BLOB,
    subject     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    key_type    TEXT NOT NULL,
    key_bits    INTEGER NOT NULL,
    curve       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    CHECK((kind = '*SYSTEM') = (private_key IS NOT NULL)));

CREATE TABLE key_policy(
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(name) BETWEEN 1 AND 40),
    remote_type      TEXT NOT NULL,
    remote_value     TEXT NOT NULL,
    auth             TEXT NOT NULL,
    psk              BLOB,
    cert_id          INTEGER REFERENCES certificate(id),
    initiator_mode   TEXT NOT NULL,
    lifetime_minutes INTEGER NOT NULL,
    lifetime_kb      INTEGER NOT NULL,
    created_by       TEXT NOT NULL DEFAULT '',
    text             TEXT NOT NULL DEFAULT '');

CREATE TABLE key_transform(
    policy_id  INTEGER NOT NULL REFERENCES key_policy(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    encryption TEXT NOT NULL,
    hash       TEXT NOT NULL,
    dh_group   TEXT NOT NULL,
    PRIMARY KEY(policy_id, seq));

CREATE TABLE data_policy(
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(name) BETWEEN 1 AND 40),
    pfs              TEXT NOT NULL,
    mode             TEXT NOT NULL,
    lifetime_minutes INTEGER NOT NULL,
    lifetime_kb      INTEGER NOT NULL,
    ipcomp           INTEGER NOT NULL,
    created_by       TEXT NOT NULL DEFAULT '',
    text             TEXT NOT NULL DEFAULT '');

CREATE TABLE data_transform(
    policy_id      INTEGER NOT NULL REFERENCES data_policy(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    protocol       TEXT NOT NULL,
    encryption     TEXT NOT NULL,
    authentication TEXT NOT NULL,
    PRIMARY KEY(policy_id, seq));

CREATE TABLE dyn_group(
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(name) BETWEEN 1 AND 40),
    seq                  INTEGER NOT NULL,
    role                 TEXT NOT NULL,
    initiator            TEXT NOT NULL,
    data_policy_id       INTEGER NOT NULL REFERENCES data_policy(id),
    policy_filter        TEXT NOT NULL,
    journaling           TEXT NOT NULL,
    populate_from_packet INTEGER NOT NULL,
    l2tp                 INTEGER NOT NULL,
    local_nat_pool       TEXT NOT NULL DEFAULT '',
    remote_nat_pool      TEXT NOT NULL DEFAULT '',
    from_wizard          INTEGER NOT NULL DEFAULT 0,
    text                 TEXT NOT NULL DEFAULT '');

CREATE TABLE group_key_policy(
    group_id      INTEGER NOT NULL REFERENCES dyn_group(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    key_policy_id INTEGER NOT NULL REFERENCES key_policy(id),
    PRIMARY KEY(group_id, seq),
    UNIQUE(group_id, key_policy_id));

CREATE TABLE group_line(
    group_id INTEGER NOT NULL REFERENCES dyn_group(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    line     TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY(group_id, seq));

CREATE TABLE dyn_connection(
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(name) BETWEEN 1 AND 40),
    group_id          INTEGER NOT NULL REFERENCES dyn_group(id),
    local_id_type     TEXT NOT NULL,
    local_id_value    TEXT NOT NULL,
    remote_id_type    TEXT NOT NULL,
    remote_id_value   TEXT NOT NULL,
    local_ep_type     TEXT NOT NULL,
    local_ep_address  TEXT NOT NULL,
    local_ep_extra    TEXT NOT NULL,
    remote_ep_type    TEXT NOT NULL,
    remote_ep_address TEXT NOT NULL,
    remote_ep_extra   TEXT NOT NULL,
    local_port        INTEGER NOT NULL,
    remote_port       INTEGER NOT NULL,
    protocol          INTEGER NOT NULL,
    on_demand         INTEGER NOT NULL,
    autostart         INTEGER NOT NULL,
    ike_version       INTEGER NOT NULL,
    esn               INTEGER NOT NULL,
    tfc               INTEGER NOT NULL,
    from_wizard       INTEGER NOT NULL DEFAULT 0,
    text              TEXT NOT NULL DEFAULT '');

CREATE TABLE manual_connection(
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK(length(name) BETWEEN 1 AND 40),
    role              TEXT NOT NULL,
    mode              TEXT NOT NULL,
    protocol          TEXT NOT NULL,
    local_address     TEXT NOT NULL,
    remote_address    TEXT NOT NULL,
    local_ep_type     TEXT NOT NULL,
    local_ep_address  TEXT NOT NULL,
    local_ep_extra    TEXT NOT NULL,
    remote_ep_type    TEXT NOT NULL,
    remote_ep_address TEXT NOT NULL,
    remote_ep_extra   TEXT NOT NULL,
    local_port        INTEGER NOT NULL,
    remote_port       INTEGER NOT NULL,
    ip_protocol       INTEGER NOT NULL,
    encryption        TEXT NOT NULL,
    authentication    TEXT NOT NULL,
    ah_authentication TEXT NOT NULL,
    esp_spi_in        INTEGER NOT NULL,
    esp_spi_out       INTEGER NOT NULL,
    ah_spi_in         INTEGER NOT NULL,
    ah_spi_out        INTEGER NOT NULL,
    keys              BLOB,
    policy_filter     TEXT NOT NULL,
    journaling        TEXT NOT NULL,
    autostart         INTEGER NOT NULL,
    text              TEXT NOT NULL DEFAULT '');

CREATE TABLE manual_line(
    conn_id INTEGER NOT NULL REFERENCES manual_connection(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    line    TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY(conn_id, seq));

CREATE TABLE line(
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL COLLATE NOCASE UNIQUE,
    interface TEXT NOT NULL,
    text      TEXT NOT NULL DEFAULT '');

CREATE TABLE connection_state(
    name       TEXT PRIMARY KEY COLLATE NOCASE,
    type       TEXT NOT NULL,
    state      TEXT NOT NULL,
    group_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    msgid      TEXT NOT NULL DEFAULT '',
    msg_values TEXT NOT NULL DEFAULT '',
    error_time INTEGER NOT NULL DEFAULT 0,
    since      INTEGER NOT NULL);

CREATE INDEX connection_state_group ON connection_state(group_name);
CREATE INDEX dyn_connection_group ON dyn_connection(group_id);
CREATE INDEX group_key_policy_key ON group_key_policy(key_policy_id);
CREATE INDEX dyn_group_data ON dyn_group(data_policy_id);
CREATE INDEX key_policy_cert ON key_policy(cert_id);
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> kSteps{{1, kV1}};
    return kSteps;
}

}  // namespace qvpn::policy
