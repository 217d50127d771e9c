// Result<T>: a value, or the message that says why there is none.
//
// Every fallible function returns Result<T>. The failure carries an IBM i
// style message ID (see core/msg) with its substitution values, and where one
// applies the errno or the IKE Notify type to answer with. Code passes values;
// the catalog owns the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace qvpn {

// A message instance: catalog ID plus the values for &1, &2, ...
struct Msg {
    std::string id;
    std::vector<std::string> values;
    int sys_errno = 0;     // errno behind the failure, 0 if none
    uint16_t notify = 0;   // IKEv2 Notify type to send, 0 if none

    // Value &n (1-based), or "" when absent.
    const std::string& value(size_t n) const;
    Msg& with_errno(int e) { sys_errno = e; return *this; }
    Msg& with_notify(uint16_t n) { notify = n; return *this; }
};

namespace detail {
inline std::string to_value(const std::string& s) { return s; }
inline std::string to_value(std::string_view s) { return std::string(s); }
inline std::string to_value(const char* s) { return s ? std::string(s) : std::string(); }
inline std::string to_value(char c) { return std::string(1, c); }
inline std::string to_value(bool b) { return b ? "*YES" : "*NO"; }
template <class T>
    requires std::is_integral_v<T>
inline std::string to_value(T v) { return std::to_string(v); }
}  // namespace detail

// msg("TCP8050", "STRVPNCNN") builds a message with its values.
template <class... Args>
Msg msg(std::string id, Args&&... values) {
    Msg m{std::move(id), {}};
    (m.values.push_back(detail::to_value(std::forward<Args>(values))), ...);
    return m;
}

// The failure half of a Result, convertible to any Result<T>.
struct Failure {
    Msg m;
};

template <class... Args>
Failure fail(std::string id, Args&&... values) {
    return Failure{msg(std::move(id), std::forward<Args>(values)...)};
}
inline Failure fail(Msg m) { return Failure{std::move(m)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Failure f) : v_(std::in_place_index<1>, std::move(f.m)) {}
    template <class U>
        requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
                 !std::is_same_v<std::decay_t<U>, Failure>)
    Result(U&& u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Msg& error() const& { return std::get<1>(v_); }
    Msg&& error() && { return std::get<1>(std::move(v_)); }
    // Pass the failure on to a caller returning another Result type.
    Failure failure() const { return Failure{error()}; }

private:
    std::variant<T, Msg> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Failure f) : e_(std::move(f.m)) {}

    bool ok() const { return !e_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Msg& error() const& { return *e_; }
    Msg&& error() && { return std::move(*e_); }
    Failure failure() const { return Failure{*e_}; }

private:
    std::optional<Msg> e_;
};

using Status = Result<void>;

inline Status ok() { return {}; }

}  // namespace qvpn

// QVPN_TRY(expr): evaluate a Result; on failure return its failure.
#define QVPN_TRY(expr)                                  \
    do {                                                \
        auto&& qvpn_try_r_ = (expr);                    \
        if (!qvpn_try_r_.ok()) {                        \
            return qvpn_try_r_.failure();               \
        }                                               \
    } while (0)

// QVPN_ASSIGN(var, expr): var = *expr, or return the failure.
#define QVPN_CONCAT_INNER(a, b) a##b
#define QVPN_CONCAT(a, b) QVPN_CONCAT_INNER(a, b)
#define QVPN_ASSIGN(lhs, expr)                                          \
    auto QVPN_CONCAT(qvpn_assign_r_, __LINE__) = (expr);               \
    if (!QVPN_CONCAT(qvpn_assign_r_, __LINE__).ok()) {                 \
        return QVPN_CONCAT(qvpn_assign_r_, __LINE__).failure();        \
    }                                                                   \
    lhs = std::move(*QVPN_CONCAT(qvpn_assign_r_, __LINE__))
