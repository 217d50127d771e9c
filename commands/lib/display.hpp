// Display output of the configuration commands: one structure, two forms.
//
// A Panel is an ordered list of labelled values. As text it prints the IBM i
// way ("Label . . . . . . :   value"); as JSON (OUTPUT(*JSON) or --json) it
// is one object keyed by the stable `key` names, which are the script
// interface and documented in the man pages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qvpn::cmd {

class Panel;

struct Column {
    std::string key;
    std::string heading;
};

// Rows of a table are panels whose keys are the columns' keys.
struct Table {
    std::vector<Column> columns;
    std::vector<Panel> rows;
};

class Panel {
public:
    Panel();
    Panel(const Panel&);
    Panel(Panel&&) noexcept;
    Panel& operator=(const Panel&);
    Panel& operator=(Panel&&) noexcept;
    ~Panel();

    Panel& add(std::string key, std::string label, std::string value);
    Panel& add(std::string key, std::string label, const char* value);
    Panel& add(std::string key, std::string label, int64_t value);
    Panel& add(std::string key, std::string label, int value);
    Panel& add_flag(std::string key, std::string label, bool value);  // *YES / *NO, JSON bool
    Panel& add_list(std::string key, std::string label, std::vector<std::string> values);
    Panel& add_table(std::string key, std::string label, Table table);
    Panel& add_panel(std::string key, std::string label, Panel sub);

    // Text value of a field for table cells ("" when absent).
    std::string text_of(const std::string& key) const;
    std::string text(int indent = 1) const;
    std::string json() const;  // one JSON object

private:
    friend struct PanelJson;
    struct Item;
    std::vector<std::unique_ptr<Item>> items_;
};

// A list display: headings and one line per row (text), or a JSON array of
// the rows' objects.
std::string table_text(const Table& t, int indent = 1);
std::string json_array(const std::vector<Panel>& panels);

// Print a detail panel, a set of panels, or a list, honouring JSON mode.
void print_panel(const Panel& p, bool json);
void print_panels(const std::vector<Panel>& panels, bool json);
void print_table(const std::string& title, const Table& t, const std::vector<Panel>& json_rows,
                 bool json);

// "2026-12-03 17:40:01" (UTC) for seconds since the epoch; "" for 0.
std::string format_time(int64_t seconds);

}  // namespace qvpn::cmd
