// The display commands of configuration objects (DSPVPNKEYP, DSPVPNDTAP,
// DSPVPNDKC, DSPVPNMNC, DSPLIND) share one behaviour: a name shows that
// object in full; *ALL or a generic name (HR*) lists the matching objects as
// a table, and with --json every one of them in full, as a JSON array.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "commands/lib/cmdlib.hpp"
#include "commands/lib/display.hpp"

namespace qvpn::cmd {

struct ObjectList {
    std::string type;  // the object type CFG0026 names when nothing matches
    std::string title;
    std::vector<Column> columns;
};

inline bool is_generic_name(const std::string& want) {
    return want == "*ALL" || (!want.empty() && want.back() == '*');
}

// load(name) -> Result<T>, list() -> Result<std::vector<T>>, panel(const T&) -> Panel.
template <typename Load, typename List, typename ToPanel>
Status display_objects(const std::string& want, bool json, const ObjectList& what, Load load,
                       List list, ToPanel panel) {
    if (!is_generic_name(want)) {
        QVPN_ASSIGN(auto one, load(want));
        print_panel(panel(one), json);
        return {};
    }
    QVPN_ASSIGN(auto all, list());
    Table t{what.columns, {}};
    std::vector<Panel> full;
    for (const auto& o : all) {
        if (name_matches(want, o.name)) {
            full.push_back(panel(o));
            t.rows.push_back(full.back());
        }
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", what.type, want);
    }
    print_table(what.title, t, full, json);
    return {};
}

}  // namespace qvpn::cmd
