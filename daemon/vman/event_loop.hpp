// The single-threaded event loop of QTOVMAN: epoll over descriptors, plus
// one-shot timers kept in a map and served through epoll_wait's timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/base/result.hpp"

namespace qvpn::vman {

class EventLoop {
public:
    using FdHandler = std::function<void(uint32_t events)>;
    using TimerId = uint64_t;

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    Status add(int fd, uint32_t events, FdHandler h);
    void remove(int fd);
    TimerId after(std::chrono::milliseconds delay, std::function<void()> cb);
    void cancel(TimerId id);

    // Runs until stop(); a handler may add, remove and stop.
    Status run();
    void stop() { running_ = false; }

private:
    int ep_ = -1;
    bool running_ = false;
    std::unordered_map<int, std::shared_ptr<FdHandler>> fds_;
    std::multimap<std::chrono::steady_clock::time_point, TimerId> due_;
    std::unordered_map<TimerId, std::function<void()>> timers_;
    TimerId next_ = 1;
};

}  // namespace qvpn::vman
