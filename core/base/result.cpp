#include "core/base/result.hpp"

namespace qvpn {

const std::string& Msg::value(size_t n) const {
    static const std::string kEmpty;
    if (n == 0 || n > values.size()) {
        return kEmpty;
    }
    return values[n - 1];
}

}  // namespace qvpn
