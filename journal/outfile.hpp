// DSPJRN output forms: a database output file (a table in the library's
// SQLite database, $QVPN_ROOT/lib/<LIB>.db, with the seed's field names, as
// IBM's model files QATOVSOFF and QATOFIPF give them), CSV and JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "journal/journal.hpp"

namespace qvpn::journal {

// IBM i object name rules for a library or file: 1-10 characters, a letter
// or $#@ first, then letters, digits and $#@_. Upper-cased on success.
Result<std::string> object_name(std::string_view name, std::string_view kwd);

std::string library_path(const std::string& lib);

// Write entries of journal `j` to table `file` of library `lib`. The table is
// created with the journal's fields when missing. replace: empty it first
// (*REPLACE), else add (*ADD). One transaction: on failure the file is as it
// was. JRN0006 when an existing table has other columns.
Status write_outfile(Journal j, const std::vector<Entry>& entries, const std::string& lib,
                     const std::string& file, bool replace);

// Column names of an existing outfile (empty when it does not exist).
Result<std::vector<std::string>> outfile_columns(const std::string& lib, const std::string& file);

// Header line of field names, then one line per entry (RFC 4180 quoting).
std::string to_csv(Journal j, const std::vector<Entry>& entries);
// An array of objects keyed by field name; numeric fields are numbers.
nlohmann::json to_json(Journal j, const std::vector<Entry>& entries);

}  // namespace qvpn::journal
