#include "commands/lib/connections.hpp"

#include <algorithm>
#include <map>

#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"
#include "core/base/text.hpp"

namespace qvpn::cmd {

using namespace qvpn::policy;

std::vector<ConnectionSection>& connection_sections() {
    static std::vector<ConnectionSection> kSections;
    return kSections;
}

Result<std::vector<ConnectionEntry>> list_connection_entries(PolicyDb& db) {
    QVPN_ASSIGN(auto dyn, db.list_connections());
    QVPN_ASSIGN(auto man, db.list_manual_connections());
    QVPN_ASSIGN(auto states, db.list_states());
    std::map<std::string, ConnectionEntry> by_key;  // upper-cased name
    for (auto& c : dyn) {
        ConnectionEntry e;
        e.name = c.name;
        e.group = c.group;
        e.dynamic = std::move(c);
        by_key[to_upper(e.name)] = std::move(e);
    }
    for (auto& c : man) {
        ConnectionEntry e;
        e.name = c.name;
        e.type = ConnectionType::Manual;
        e.manual = std::move(c);
        by_key[to_upper(e.name)] = std::move(e);
    }
    for (auto& s : states) {
        auto it = by_key.find(to_upper(s.name));
        if (it == by_key.end()) {
            ConnectionEntry e;
            e.name = s.name;
            e.type = s.type;
            e.group = s.group;
            it = by_key.emplace(to_upper(s.name), std::move(e)).first;
        }
        it->second.status = std::move(s);
    }
    std::vector<ConnectionEntry> out;
    for (auto& [k, e] : by_key) {
        out.push_back(std::move(e));
    }
    return out;
}

namespace {

std::string state_text(const ConnectionEntry& e) {
    return e.status ? std::string(to_cl(e.status->state)) : "*IDLE";
}

}  // namespace

Panel connection_summary(const ConnectionEntry& e) {
    Panel p;
    std::string remote, text;
    if (e.dynamic) {
        remote = identity_text(e.dynamic->remote_id);
        text = e.dynamic->text;
    } else if (e.manual) {
        remote = e.manual->remote_address;
        text = e.manual->text;
    } else {
        remote = "(responder)";
    }
    p.add("name", "Connection", e.name)
        .add("type", "Type", std::string(to_cl(e.type)))
        .add("state", "Status", state_text(e))
        .add("group", "Group", e.group)
        .add("remote", "Remote key server or endpoint", remote)
        .add("text", "Text", text);
    return p;
}

Result<Panel> connection_detail(PolicyDb& db, const ConnectionEntry& e) {
    Panel p;
    if (e.dynamic) {
        p = connection_panel(*e.dynamic);
        QVPN_ASSIGN(auto ref, db.key_policy_for(e.dynamic->remote_id));
        p.add("key_policy", "Key exchange policy used", ref ? ref->key_policy : "*NONE");
        p.add("key_policy_group", "Found in group", ref ? ref->group : "*NONE");
    } else if (e.manual) {
        p = manual_panel(*e.manual);
    } else {
        p.add("name", "Connection", e.name)
            .add("type", "Connection type", std::string(to_cl(e.type)))
            .add("group", "Dynamic-key group", e.group);
    }
    p.add_panel("status", "Status", status_panel(e.status));
    for (const auto& section : connection_sections()) {
        section(e, p);
    }
    return p;
}

}  // namespace qvpn::cmd
