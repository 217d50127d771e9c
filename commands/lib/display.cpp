#include "commands/lib/display.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <variant>

namespace qvpn::cmd {

namespace {

enum class Kind { Text, Number, Flag, List, Table, Sub };

constexpr size_t kLabelWidth = 42;

std::string dotted(const std::string& label, int indent) {
    std::string s(static_cast<size_t>(indent), ' ');
    s += label;
    // IBM pads labels with " . " pairs up to the value column.
    if (s.size() % 2 == 0) {
        s += ' ';
    }
    while (s.size() + 2 < kLabelWidth) {
        s += s.size() % 2 == 1 ? " " : ".";
    }
    s += ":   ";
    return s;
}

}  // namespace

struct Panel::Item {
    Kind kind = Kind::Text;
    std::string key;
    std::string label;
    std::string text;
    int64_t number = 0;
    bool flag = false;
    std::vector<std::string> list;
    Table table;
    std::vector<Panel> sub;  // one element for Kind::Sub
};

Panel::Panel() = default;
Panel::Panel(Panel&&) noexcept = default;
Panel& Panel::operator=(Panel&&) noexcept = default;
Panel::~Panel() = default;

Panel::Panel(const Panel& o) {
    for (const auto& i : o.items_) {
        items_.push_back(std::make_unique<Item>(*i));
    }
}

Panel& Panel::operator=(const Panel& o) {
    if (this != &o) {
        Panel copy(o);
        *this = std::move(copy);
    }
    return *this;
}

Panel& Panel::add(std::string key, std::string label, std::string value) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::Text;
    i->key = std::move(key);
    i->label = std::move(label);
    i->text = std::move(value);
    items_.push_back(std::move(i));
    return *this;
}

Panel& Panel::add(std::string key, std::string label, const char* value) {
    return add(std::move(key), std::move(label), std::string(value));
}

Panel& Panel::add(std::string key, std::string label, int64_t value) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::Number;
    i->key = std::move(key);
    i->label = std::move(label);
    i->number = value;
    i->text = std::to_string(value);
    items_.push_back(std::move(i));
    return *this;
}

Panel& Panel::add(std::string key, std::string label, int value) {
    return add(std::move(key), std::move(label), static_cast<int64_t>(value));
}

Panel& Panel::add_flag(std::string key, std::string label, bool value) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::Flag;
    i->key = std::move(key);
    i->label = std::move(label);
    i->flag = value;
    i->text = value ? "*YES" : "*NO";
    items_.push_back(std::move(i));
    return *this;
}

Panel& Panel::add_list(std::string key, std::string label, std::vector<std::string> values) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::List;
    i->key = std::move(key);
    i->label = std::move(label);
    i->list = std::move(values);
    for (const auto& v : i->list) {
        i->text += (i->text.empty() ? "" : " ") + v;
    }
    items_.push_back(std::move(i));
    return *this;
}

Panel& Panel::add_table(std::string key, std::string label, Table table) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::Table;
    i->key = std::move(key);
    i->label = std::move(label);
    i->table = std::move(table);
    items_.push_back(std::move(i));
    return *this;
}

Panel& Panel::add_panel(std::string key, std::string label, Panel sub) {
    auto i = std::make_unique<Item>();
    i->kind = Kind::Sub;
    i->key = std::move(key);
    i->label = std::move(label);
    i->sub.push_back(std::move(sub));
    items_.push_back(std::move(i));
    return *this;
}

std::string Panel::text_of(const std::string& key) const {
    for (const auto& i : items_) {
        if (i->key == key) {
            return i->text;
        }
    }
    return "";
}

std::string Panel::text(int indent) const {
    std::string out;
    for (const auto& i : items_) {
        switch (i->kind) {
        case Kind::Table:
            out += std::string(static_cast<size_t>(indent), ' ') + i->label + ":\n";
            out += i->table.rows.empty() ? std::string(static_cast<size_t>(indent) + 2, ' ') +
                                               "(none)\n"
                                         : table_text(i->table, indent + 2);
            break;
        case Kind::Sub:
            out += std::string(static_cast<size_t>(indent), ' ') + i->label + ":\n";
            out += i->sub.front().text(indent + 2);
            break;
        case Kind::List:
            out += dotted(i->label, indent) + (i->list.empty() ? "*NONE" : i->text) + "\n";
            break;
        default:
            out += dotted(i->label, indent) + i->text + "\n";
            break;
        }
    }
    return out;
}

struct PanelJson {
    static nlohmann::ordered_json of(const Panel& p) {
        nlohmann::ordered_json o = nlohmann::ordered_json::object();
        for (const auto& i : p.items_) {
            switch (i->kind) {
            case Kind::Text: o[i->key] = i->text; break;
            case Kind::Number: o[i->key] = i->number; break;
            case Kind::Flag: o[i->key] = i->flag; break;
            case Kind::List: o[i->key] = i->list; break;
            case Kind::Table: {
                nlohmann::ordered_json a = nlohmann::ordered_json::array();
                for (const auto& r : i->table.rows) {
                    a.push_back(of(r));
                }
                o[i->key] = std::move(a);
                break;
            }
            case Kind::Sub: o[i->key] = of(i->sub.front()); break;
            }
        }
        return o;
    }
};

std::string Panel::json() const { return PanelJson::of(*this).dump(2); }

std::string json_array(const std::vector<Panel>& panels) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& p : panels) {
        a.push_back(PanelJson::of(p));
    }
    return a.dump(2);
}

std::string table_text(const Table& t, int indent) {
    std::vector<size_t> width;
    for (const auto& c : t.columns) {
        width.push_back(c.heading.size());
    }
    for (const auto& r : t.rows) {
        for (size_t c = 0; c < t.columns.size(); ++c) {
            width[c] = std::max(width[c], r.text_of(t.columns[c].key).size());
        }
    }
    auto line = [&](auto cell) {
        std::string s(static_cast<size_t>(indent), ' ');
        for (size_t c = 0; c < t.columns.size(); ++c) {
            std::string v = cell(c);
            s += v;
            if (c + 1 < t.columns.size()) {
                s += std::string(width[c] - v.size() + 2, ' ');
            }
        }
        while (!s.empty() && s.back() == ' ') {
            s.pop_back();
        }
        return s + "\n";
    };
    std::string out = line([&](size_t c) { return t.columns[c].heading; });
    for (const auto& r : t.rows) {
        out += line([&](size_t c) { return r.text_of(t.columns[c].key); });
    }
    return out;
}

void print_panel(const Panel& p, bool json) {
    std::fputs(json ? (p.json() + "\n").c_str() : p.text().c_str(), stdout);
}

void print_panels(const std::vector<Panel>& panels, bool json) {
    if (json) {
        std::printf("%s\n", json_array(panels).c_str());
        return;
    }
    for (size_t i = 0; i < panels.size(); ++i) {
        std::fputs(panels[i].text().c_str(), stdout);
        if (i + 1 < panels.size()) {
            std::fputs("\n", stdout);
        }
    }
}

void print_table(const std::string& title, const Table& t, const std::vector<Panel>& json_rows,
                 bool json) {
    if (json) {
        std::printf("%s\n", json_array(json_rows).c_str());
        return;
    }
    std::printf(" %s\n\n", title.c_str());
    if (t.rows.empty()) {
        std::printf("   (none)\n");
        return;
    }
    std::fputs(table_text(t, 1).c_str(), stdout);
}

std::string format_time(int64_t seconds) {
    if (seconds == 0) {
        return "";
    }
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

}  // namespace qvpn::cmd
