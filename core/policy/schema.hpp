// The policy database schema as an ordered list of migration steps.
//
// Step n takes a database from version n-1 to n. Steps are only ever
// appended: a released step is never edited, so every database reaches the
// same schema whatever version it started from. All pending steps run in one
// BEGIN IMMEDIATE transaction together with the version update.
#pragma once

#include <string_view>
#include <vector>

namespace qvpn::policy {

struct Migration {
    int version;
    std::string_view sql;
};

const std::vector<Migration>& migrations();

}  // namespace qvpn::policy
